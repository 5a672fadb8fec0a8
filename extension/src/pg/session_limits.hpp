// Time limits applied to a migration while it runs: lock_timeout through a GUC nest level
// (undone with the subtransaction), statement_timeout through the statement timer, which
// PostgreSQL only arms for top-level statements and so must be armed here for each statement
// of a script, then handed back to the caller's own statement_timeout.
#pragma once

#include "pg/postgres.hpp"

#include <string>

namespace pgm::pg {

// Sets lock_timeout until restore() (or until the enclosing subtransaction ends).
class ScopedLockTimeout {
  public:
    explicit ScopedLockTimeout(int lock_timeout_ms);
    void restore();

  private:
    int nest_level_ = -1;
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

// Sleeps, waking up for interrupts (a cancel during a retry back-off raises an error).
void sleep_ms(int ms);

// Parses "1s", "500ms", "2min" or a number of milliseconds. Throws UserError naming `what`.
int parse_duration_ms(const std::string &text, const char *what);

bool at_read_committed();
TimestampTz now();
std::string format_timestamp(TimestampTz ts);

}  // namespace pgm::pg
