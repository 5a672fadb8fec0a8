#include "retry_policy.hpp"

#include <algorithm>
#include <cmath>

#include "cpp_only.hpp"  // last: no PostgreSQL in this file

namespace pgm {

bool is_retryable_sqlstate(std::string_view sqlstate) {
    return sqlstate == "55P03" || sqlstate == "40P01";
}

bool may_retry(const RetryPolicy &policy, int attempts_done, std::string_view sqlstate) {
    return is_retryable_sqlstate(sqlstate) && attempts_done >= 1 &&
           attempts_done <= policy.max_retries;
}

int backoff_delay_ms(const RetryPolicy &policy, int retry, double unit_random) {
    if (retry < 1) retry = 1;
    const double base = std::max(0, policy.base_delay_ms);
    const double cap = std::max(0, policy.max_delay_ms);
    // 2^(retry-1) overflows nothing for any int retry once capped by min().
    const double grown = std::min(cap, base * std::pow(2.0, std::min(retry - 1, 60)));
    const double r = std::isnan(unit_random) ? 0.0 : std::clamp(unit_random, 0.0, 1.0);
    return static_cast<int>(grown / 2.0 + r * grown / 2.0);
}

}  // namespace pgm
