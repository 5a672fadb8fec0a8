#include "aws/s3_retry.hpp"

#include <curl/curl.h>

#include <stdexcept>

namespace pgmig::aws {

bool is_retryable_curl_code(int curl_code) {
    switch (static_cast<CURLcode>(curl_code)) {
        // A name that does not resolve is usually a typo, but resolvers also fail for a moment
        // under load; a few seconds of retries cost little next to a failed backup.
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
}

bool is_retryable_response(long http_status, std::string_view s3_error_code) {
    if (s3_error_code == "SlowDown" || s3_error_code == "InternalError" ||
        s3_error_code == "RequestTimeout")
        return true;
    return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
           http_status == 504;
}

bool is_retryable(const AttemptOutcome &outcome) {
    if (outcome.curl_code != 0) return is_retryable_curl_code(outcome.curl_code);
    return is_retryable_response(outcome.http_status, outcome.s3_error_code);
}

pgm::RetryPolicy default_s3_retry_policy() {
    pgm::RetryPolicy policy;
    policy.max_retries = 5;
    policy.base_delay_ms = 200;
    policy.max_delay_ms = 5000;
    return policy;
}

pgm::RetryPolicy with_max_retries_setting(pgm::RetryPolicy policy, const char *variable,
                                          const std::optional<std::string> &max_retries_text) {
    if (!max_retries_text) return policy;
    const std::string &text = *max_retries_text;
    int value = 0;
    bool valid = !text.empty() && text.size() <= 3;
    for (char c : text) {
        if (c < '0' || c > '9') valid = false;
        if (valid) value = value * 10 + (c - '0');
    }
    if (!valid || value > 100)
        throw std::invalid_argument(std::string(variable) +
                                    " must be a whole number from 0 to 100, not \"" + text + "\"");
    policy.max_retries = value;
    return policy;
}

pgm::RetryPolicy s3_retry_policy(const std::optional<std::string> &max_retries_text) {
    return with_max_retries_setting(default_s3_retry_policy(), "PGMIG_S3_MAX_RETRIES",
                                    max_retries_text);
}

bool may_retry(const pgm::RetryPolicy &policy, int attempts_done, const AttemptOutcome &outcome) {
    return is_retryable(outcome) && attempts_done >= 1 && attempts_done <= policy.max_retries;
}

int retry_delay_ms(const pgm::RetryPolicy &policy, int retry, double unit_random) {
    return pgm::backoff_delay_ms(policy, retry, unit_random);
}

}  // namespace pgmig::aws
