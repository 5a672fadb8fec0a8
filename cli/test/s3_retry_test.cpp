// An S3 request that fails because S3 is busy or the connection dropped is sent again after a
// growing, jittered pause; one that fails because of us (bad credentials, missing object) is
// not, so the user hears about it at once.
#include "aws/s3_retry.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <stdexcept>

using namespace pgmig::aws;

namespace {

AttemptOutcome http(long status, const std::string &code = "") {
    AttemptOutcome outcome;
    outcome.http_status = status;
    outcome.s3_error_code = code;
    return outcome;
}

AttemptOutcome transport(CURLcode code) {
    AttemptOutcome outcome;
    outcome.curl_code = static_cast<int>(code);
    return outcome;
}

}  // namespace

TEST(S3Retry, retries_throttling_and_server_errors) {
    for (long status : {429L, 500L, 502L, 503L, 504L})
        EXPECT_TRUE(is_retryable(http(status))) << status;
    EXPECT_TRUE(is_retryable(http(503, "SlowDown")));
}

TEST(S3Retry, retries_the_s3_codes_for_transient_trouble_whatever_their_status) {
    EXPECT_TRUE(is_retryable(http(400, "RequestTimeout")));
    EXPECT_TRUE(is_retryable(http(200, "InternalError")));  // CompleteMultipartUpload's 200
    EXPECT_TRUE(is_retryable(http(503, "SlowDown")));
}

TEST(S3Retry, does_not_retry_what_would_fail_again) {
    EXPECT_FALSE(is_retryable(http(403, "SignatureDoesNotMatch")));
    EXPECT_FALSE(is_retryable(http(403, "InvalidAccessKeyId")));
    EXPECT_FALSE(is_retryable(http(403, "AccessDenied")));
    EXPECT_FALSE(is_retryable(http(404, "NoSuchKey")));
    EXPECT_FALSE(is_retryable(http(404, "NoSuchBucket")));
    EXPECT_FALSE(is_retryable(http(400, "EntityTooSmall")));
    EXPECT_FALSE(is_retryable(http(405, "MethodNotAllowed")));
    EXPECT_FALSE(is_retryable(http(501, "NotImplemented")));
    EXPECT_FALSE(is_retryable(http(301, "PermanentRedirect")));
    EXPECT_FALSE(is_retryable(http(400, "slowdown")));  // codes are case-sensitive
}

TEST(S3Retry, retries_dropped_refused_and_timed_out_connections) {
    for (CURLcode code :
         {CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_OPERATION_TIMEDOUT,
          CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR,
          CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM})
        EXPECT_TRUE(is_retryable(transport(code))) << curl_easy_strerror(code);
}

TEST(S3Retry, does_not_retry_transport_errors_of_our_own_making) {
    for (CURLcode code :
         {CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_WRITE_ERROR, CURLE_READ_ERROR,
          CURLE_ABORTED_BY_CALLBACK, CURLE_PEER_FAILED_VERIFICATION, CURLE_OUT_OF_MEMORY,
          CURLE_BAD_FUNCTION_ARGUMENT})
        EXPECT_FALSE(is_retryable(transport(code))) << curl_easy_strerror(code);
}

TEST(S3Retry, a_transport_failure_outranks_any_status) {
    AttemptOutcome outcome = transport(CURLE_URL_MALFORMAT);
    outcome.http_status = 503;
    EXPECT_FALSE(is_retryable(outcome));
}

TEST(S3Retry, default_schedule_is_five_retries_from_200_ms_up_to_5_s) {
    const pgm::RetryPolicy policy = default_s3_retry_policy();
    EXPECT_EQ(policy.max_retries, 5);
    EXPECT_EQ(policy.base_delay_ms, 200);
    EXPECT_EQ(policy.max_delay_ms, 5000);
}

TEST(S3Retry, gives_up_after_the_configured_number_of_retries) {
    const pgm::RetryPolicy policy = default_s3_retry_policy();
    for (int attempts = 1; attempts <= 5; ++attempts)
        EXPECT_TRUE(may_retry(policy, attempts, http(503))) << attempts;
    EXPECT_FALSE(may_retry(policy, 6, http(503)));
    EXPECT_FALSE(may_retry(policy, 1, http(403, "AccessDenied")));
}

TEST(S3Retry, max_retries_can_be_set_from_the_environment) {
    EXPECT_EQ(s3_retry_policy(std::nullopt).max_retries, 5);
    EXPECT_EQ(s3_retry_policy(std::string("0")).max_retries, 0);
    EXPECT_EQ(s3_retry_policy(std::string("12")).max_retries, 12);
    EXPECT_FALSE(may_retry(s3_retry_policy(std::string("0")), 1, http(503)));
}

TEST(S3Retry, a_bad_max_retries_value_names_the_variable) {
    for (const char *text : {"", "-1", "abc", "5x", "101", "99999999999"}) {
        try {
            s3_retry_policy(std::string(text));
            ADD_FAILURE() << "accepted \"" << text << "\"";
        } catch (const std::invalid_argument &error) {
            EXPECT_NE(std::string(error.what()).find("PGMIG_S3_MAX_RETRIES"), std::string::npos);
        }
    }
}

TEST(S3Retry, waits_grow_exponentially_with_equal_jitter_and_a_cap) {
    const pgm::RetryPolicy policy = default_s3_retry_policy();
    // Equal jitter: half of the grown delay is fixed, the other half random.
    EXPECT_EQ(retry_delay_ms(policy, 1, 0.0), 100);
    EXPECT_EQ(retry_delay_ms(policy, 1, 0.999999), 199);
    EXPECT_EQ(retry_delay_ms(policy, 2, 0.0), 200);
    EXPECT_EQ(retry_delay_ms(policy, 3, 0.0), 400);
    EXPECT_EQ(retry_delay_ms(policy, 5, 0.0), 1600);
    EXPECT_EQ(retry_delay_ms(policy, 6, 0.0), 2500);  // 6400 capped at 5000
    EXPECT_EQ(retry_delay_ms(policy, 40, 0.999999), 4999);
    // The same numbers as the shared schedule: there is only one backoff formula.
    for (int retry = 1; retry <= 8; ++retry)
        EXPECT_EQ(retry_delay_ms(policy, retry, 0.37), pgm::backoff_delay_ms(policy, retry, 0.37));
}
