// Which failed S3 requests are worth sending again, and how long to wait first. Pure logic,
// so the decisions are unit-tested without a server; the schedule itself is the shared
// pgm::backoff_delay_ms, so the CLI and the extension back off the same way.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "retry_policy.hpp"

namespace pgmig::aws {

// How one attempt of a request ended, as far as retrying cares.
struct AttemptOutcome {
    int curl_code = 0;          // a CURLcode; 0 when an HTTP response arrived
    long http_status = 0;       // the response's status when one arrived
    std::string s3_error_code;  // <Code> of the S3 error body, if any
};

// Failures of the connection rather than of the request: refused, reset, timed out, cut
// short. Errors of our own making (a bad URL, a sink that refused the data, TLS verification)
// would fail again the same way and are not retried.
bool is_retryable_curl_code(int curl_code);

// Throttling and server-side trouble: HTTP 429, 500, 502, 503 and 504, and the S3 error codes
// SlowDown, InternalError and RequestTimeout (whatever the status they come with).
bool is_retryable_response(long http_status, std::string_view s3_error_code);

bool is_retryable(const AttemptOutcome &outcome);

// Default S3 schedule: 5 retries after the first attempt, 200 ms growing to at most 5 s.
pgm::RetryPolicy default_s3_retry_policy();

// The default schedule with max_retries from `max_retries_text` (PGMIG_S3_MAX_RETRIES, a
// whole number 0..100) when given. Throws std::invalid_argument naming the variable otherwise.
pgm::RetryPolicy s3_retry_policy(const std::optional<std::string> &max_retries_text);

// `policy` with max_retries from an environment setting (`variable` names it in the error):
// a whole number from 0 to 100; unset leaves the policy as it is. Shared by S3 and DynamoDB.
pgm::RetryPolicy with_max_retries_setting(pgm::RetryPolicy policy, const char *variable,
                                          const std::optional<std::string> &max_retries_text);

// Whether attempt number `attempts_done` (1 = the first) may be followed by another.
bool may_retry(const pgm::RetryPolicy &policy, int attempts_done, const AttemptOutcome &outcome);

// Milliseconds to wait before retry number `retry` (1-based); `unit_random` is in [0, 1).
int retry_delay_ms(const pgm::RetryPolicy &policy, int retry, double unit_random);

}  // namespace pgmig::aws
