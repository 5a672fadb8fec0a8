// When and how long to wait before retrying a migration that lost a lock race. Pure logic,
// so the schedule is unit-tested without a server.
#pragma once

#include <string_view>

namespace pgm {

struct RetryPolicy {
    int max_retries = 5;  // retries after the first attempt
    int base_delay_ms = 100;
    int max_delay_ms = 10000;
};

// SQLSTATEs worth retrying: the migration's subtransaction was rolled back because it could
// not get a lock in time (55P03 lock_not_available) or was chosen as a deadlock victim (40P01).
bool is_retryable_sqlstate(std::string_view sqlstate);

// Whether attempt number `attempts_done` (1 = the first try) may be followed by another.
bool may_retry(const RetryPolicy &policy, int attempts_done, std::string_view sqlstate);

// Delay before retry number `retry` (1-based): exponential growth capped at max_delay_ms,
// with "equal jitter" (half fixed, half random) so that many deploy instances waiting on the
// same lock spread out instead of retrying in lockstep. `unit_random` is in [0, 1).
int backoff_delay_ms(const RetryPolicy &policy, int retry, double unit_random);

}  // namespace pgm
