// Library entry: the module magic and the GUCs.
#include "config.hpp"
#include "pg/postgres.hpp"

namespace pgm::config {
int lock_timeout_ms = 1000;
int lock_retries = 5;
int statement_timeout_ms = 0;
int retry_delay_ms = 100;
int retry_max_delay_ms = 10000;
bool require_preflight = false;
}  // namespace pgm::config

extern "C" {

PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void) {
    using namespace pgm::config;
    DefineCustomIntVariable(
        "pg_migrate.lock_timeout", "lock_timeout applied to every statement of a migration.",
        "A migration that cannot get a lock in time is rolled back and retried, so it never "
        "queues other sessions behind it for long. 0 disables the timeout.",
        &lock_timeout_ms, 1000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "pg_migrate.lock_retries",
        "How many times a migration that hit lock_timeout (or a deadlock) is retried.",
        "Retries wait with exponential back-off and jitter between pg_migrate.retry_delay "
        "and pg_migrate.retry_max_delay.",
        &lock_retries, 5, 0, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pg_migrate.statement_timeout",
                            "statement_timeout applied to every statement of a migration.",
                            "0 means no limit (beyond the caller's own statement_timeout).",
                            &statement_timeout_ms, 0, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("pg_migrate.retry_delay",
                            "Base delay before the first lock retry; doubles on each retry.",
                            nullptr, &retry_delay_ms, 100, 0, 3600000, PGC_USERSET, GUC_UNIT_MS,
                            nullptr, nullptr, nullptr);
    DefineCustomIntVariable("pg_migrate.retry_max_delay", "Upper bound of the lock retry delay.",
                            nullptr, &retry_max_delay_ms, 10000, 0, 3600000, PGC_USERSET,
                            GUC_UNIT_MS, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "pg_migrate.require_preflight",
        "Makes migrate_execute() refuse to run when a critical pre-flight check fails.",
        "The checks are those of migrate_preflight(target): sessions holding conflicting locks on "
        "the tables the pending migrations touch, modified applied migrations.",
        &require_preflight, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("pg_migrate");
}

}  // extern "C"
