// Settings (GUCs) of pg_migrate, defined in module.cpp. Times are in milliseconds.
#pragma once

namespace pgm::config {

extern int lock_timeout_ms;       // pg_migrate.lock_timeout
extern int lock_retries;          // pg_migrate.lock_retries
extern int statement_timeout_ms;  // pg_migrate.statement_timeout (0: none)
extern int retry_delay_ms;        // pg_migrate.retry_delay
extern int retry_max_delay_ms;    // pg_migrate.retry_max_delay
extern bool require_preflight;    // pg_migrate.require_preflight

}  // namespace pgm::config
