// Time limits applied to a migration while it runs: lock_timeout through a GUC nest level
// (undone with the subtransaction), statement_timeout through the statement timer, which
// PostgreSQL only arms for top-level statements and so must be armed here for each statement
// of a script, then handed back to the caller's own statement_timeout.
#pragma once

#include "pg/postgres.hpp"

#include <string>

namespace pgm::pg {

// Sets lock_timeout until restore() (or until the enclosing subtransaction ends). The same
// GUC nest level saves the caller's search_path, so that a script's SET search_path (or
// RESET ALL) ends with the script instead of leaking into pg_migrate's bookkeeping and the
// rest of the session.
class ScopedLockTimeout {
  public:
    explicit ScopedLockTimeout(int lock_timeout_ms);
    void restore();

  private:
    int nest_level_ = -1;
    char *search_path_ = nullptr;  // the caller's, palloc'd
};

// Arms the statement timeout for one statement; disarm() puts the caller's timer back.
class StatementTimer {
  public:
    explicit StatementTimer(int timeout_ms);
    ~StatementTimer();
    void disarm();
    // Whether a 57014 error just seen was this timer firing (and not a user's cancel).
    bool fired() const;

  private:
    bool armed_ = false;
    bool outer_active_ = false;
    TimestampTz outer_finish_ = 0;
    TimestampTz finish_ = 0;
};

// Who the statements of a script run as: the user, the session user and the security
// context at the start of the script.
struct Identity {
    Oid user = InvalidOid;
    Oid session_user = InvalidOid;
    int security_context = 0;
};
Identity current_identity();

// Raises a PostgreSQL error (42501) when a statement changed who the script runs as
// (SET ROLE, SET SESSION AUTHORIZATION, RESET ALL, set_config('role', ...)): pg_migrate
// writes its log and runs the next statement as the caller, never as another role.
void require_identity(const Identity &expected, const char *statement_kind);

// Sleeps, waking up for interrupts (a cancel during a retry back-off raises an error).
void sleep_ms(int ms);

// Parses "1s", "500ms", "2min" or a number of milliseconds. Throws UserError naming `what`.
int parse_duration_ms(const std::string &text, const char *what);

bool at_read_committed();

// Whether an explicit transaction block (BEGIN ... COMMIT) is open.
bool in_transaction_block();
TimestampTz now();
std::string format_timestamp(TimestampTz ts);

}  // namespace pgm::pg
