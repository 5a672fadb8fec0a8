// A DynamoDB client: JSON over HTTP (POST /, X-Amz-Target DynamoDB_20120810.<Op>), signed with
// SigV4, with the few operations backups need. Throttling, server errors and dropped
// connections are retried with the shared backoff schedule (pgm::backoff_delay_ms); error
// messages carry DynamoDB's __type and message, never a credential. One client per thread.
#pragma once

#include "aws/credentials.hpp"
#include "aws/http_client.hpp"
#include "retry_policy.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgmig::aws {

// What one failed attempt tells us, for error messages and for the retry decision.
struct DynamoErrorInfo {
    long http_status = 0;  // 0: no HTTP response arrived
    int curl_code = 0;     // a CURLcode when no response arrived
    std::string type;      // "ProvisionedThroughputExceededException" (the __type after '#')
    std::string message;   // DynamoDB's message, or the transport error
};

// A DynamoDB request that failed for good (not retryable, or out of retries). what() names
// the operation, the table, the error type and DynamoDB's message.
class DynamoError : public std::runtime_error {
  public:
    DynamoError(const std::string &what, DynamoErrorInfo info, bool retryable)
        : std::runtime_error(what), info_(std::move(info)), retryable_(retryable) {}
    const DynamoErrorInfo &info() const { return info_; }
    const std::string &type() const { return info_.type; }
    bool retryable() const { return retryable_; }

  private:
    DynamoErrorInfo info_;
    bool retryable_;
};

// The type and message of a DynamoDB error body ({"__type": "com.amazonaws...#Name",
// "message": "..."}). A body that is not such a document gives type "" and its start as the
// message, so a proxy's HTML error page still says something.
DynamoErrorInfo parse_dynamo_error(long http_status, std::string_view body);

// Throttling (ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded), InternalServerError, ServiceUnavailable and any HTTP 5xx: the same
// request may succeed later. Validation errors, a missing table or bad credentials never do.
bool is_retryable_dynamo_response(long http_status, std::string_view type);

// A retryable response, or no response for a reason is_retryable_curl_code (shared with the
// S3 store) calls a connection failure.
bool is_retryable(const DynamoErrorInfo &error);

// "ResourceNotFoundException: Requested resource not found (HTTP 400)".
std::string describe_error(const DynamoErrorInfo &error);

// Default schedule: 10 retries after the first attempt, 50 ms growing to at most 5 s.
pgm::RetryPolicy default_dynamodb_retry_policy();

// The default schedule with max_retries from PGMIG_DYNAMODB_MAX_RETRIES (a whole number
// 0..100) when set. Throws std::invalid_argument naming the variable otherwise.
pgm::RetryPolicy dynamodb_retry_policy(const std::optional<std::string> &max_retries_text);

// AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else "" (AWS itself).
std::string dynamodb_endpoint_override(const CredentialSources &sources);

// The URL requests go to: the override when set (without a trailing '/'), else
// https://dynamodb.<region>.amazonaws.com.
std::string dynamodb_endpoint_url(const std::string &override_url, const std::string &region);

// "host[:port]" of an http(s) URL, for the signed Host header. Throws std::invalid_argument
// for anything that is not an http:// or https:// URL with a host.
std::string url_host(const std::string &url);

struct DynamoConfig {
    std::string region;
    std::string endpoint_override;  // empty: AWS itself
    Credentials credentials;
    pgm::RetryPolicy retry = default_dynamodb_retry_policy();
};

// Region, endpoint, credentials and retry policy from the environment (and the shared AWS
// files). Throws CredentialsError when there are no credentials.
DynamoConfig dynamodb_config_from_environment();

class DynamoClient {
  public:
    explicit DynamoClient(DynamoConfig config);

    // One operation with retries: the response body on success. Throws DynamoError naming
    // `operation` and `table` otherwise.
    std::string call(const std::string &operation, const std::string &table,
                     const std::string &body);

    // One attempt, no retries: the response body, or nullopt with `error` filled in. For
    // callers that retry on their own terms (BatchWriteItem's unprocessed items).
    std::optional<std::string> attempt(const std::string &operation, const std::string &body,
                                       DynamoErrorInfo &error);

    // The DescribeTable "Table" object; nullopt when the table does not exist.
    std::optional<nlohmann::json> describe_table(const std::string &table);

    // Sends CreateTable and waits (polling DescribeTable) until the table and its indexes
    // are ACTIVE, at most `timeout_seconds`.
    void create_table(const nlohmann::json &request, int timeout_seconds = 600);

    // Items in the table by a consistent Scan with Select=COUNT.
    uint64_t count_items(const std::string &table);

    // Sleeps `ms` milliseconds; replaceable so tests do not wait.
    void set_sleeper(std::function<void(int)> sleeper) { sleep_ = std::move(sleeper); }
    const DynamoConfig &config() const { return config_; }
    const std::string &endpoint_url() const { return url_; }
    // A number in [0, 1) for backoff jitter.
    double unit_random();

  private:
    DynamoConfig config_;
    std::string url_;
    std::string host_;
    HttpClient http_;
    std::mt19937_64 random_;
    std::function<void(int)> sleep_;
};

}  // namespace pgmig::aws
