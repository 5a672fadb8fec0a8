#include "aws/dynamodb_client.hpp"

#include "aws/s3_retry.hpp"
#include "aws/sigv4.hpp"

#include <chrono>
#include <thread>

namespace pgmig::aws {

namespace {

constexpr const char *kTargetPrefix = "DynamoDB_20120810.";

// Error bodies are small JSON documents; anything longer is not one of them and only its
// start is worth quoting.
constexpr size_t kMaxQuotedBody = 200;

std::string quoted_start(std::string_view body) {
    std::string s(body.substr(0, kMaxQuotedBody));
    for (char &c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (body.size() > kMaxQuotedBody) s += "...";
    return s;
}

}  // namespace

DynamoErrorInfo parse_dynamo_error(long http_status, std::string_view body) {
    DynamoErrorInfo info;
    info.http_status = http_status;
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("__type") && j["__type"].is_string()) {
        const std::string type = j["__type"].get<std::string>();
        const size_t hash = type.rfind('#');
        info.type = hash == std::string::npos ? type : type.substr(hash + 1);
        for (const char *key : {"message", "Message"})
            if (j.contains(key) && j[key].is_string()) info.message = j[key].get<std::string>();
    } else {
        info.message = quoted_start(body);
    }
    return info;
}

bool is_retryable_dynamo_response(long http_status, std::string_view type) {
    if (type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
        type == "RequestLimitExceeded" || type == "InternalServerError" ||
        type == "ServiceUnavailable")
        return true;
    return http_status >= 500 && http_status <= 599;
}

bool is_retryable(const DynamoErrorInfo &error) {
    if (error.http_status == 0) return is_retryable_curl_code(error.curl_code);
    return is_retryable_dynamo_response(error.http_status, error.type);
}

std::string describe_error(const DynamoErrorInfo &error) {
    if (error.http_status == 0) return "no response: " + error.message;
    std::string s = error.type.empty() ? std::string("error") : error.type;
    if (!error.message.empty()) s += ": " + error.message;
    return s + " (HTTP " + std::to_string(error.http_status) + ")";
}

pgm::RetryPolicy default_dynamodb_retry_policy() {
    pgm::RetryPolicy policy;
    policy.max_retries = 10;
    policy.base_delay_ms = 50;
    policy.max_delay_ms = 5000;
    return policy;
}

pgm::RetryPolicy dynamodb_retry_policy(const std::optional<std::string> &max_retries_text) {
    return with_max_retries_setting(default_dynamodb_retry_policy(), "PGMIG_DYNAMODB_MAX_RETRIES",
                                    max_retries_text);
}

std::string dynamodb_endpoint_override(const CredentialSources &sources) {
    for (const char *name : {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"}) {
        const auto value = sources.env(name);
        if (value && !value->empty()) return *value;
    }
    return "";
}

std::string dynamodb_endpoint_url(const std::string &override_url, const std::string &region) {
    std::string url =
        override_url.empty() ? "https://dynamodb." + region + ".amazonaws.com" : override_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string url_host(const std::string &url) {
    size_t start = std::string::npos;
    if (url.rfind("http://", 0) == 0) start = 7;
    if (url.rfind("https://", 0) == 0) start = 8;
    if (start == std::string::npos)
        throw std::invalid_argument("DynamoDB endpoint \"" + url +
                                    "\" is not an http:// or https:// URL");
    const size_t end = url.find_first_of("/?#", start);
    std::string host =
        url.substr(start, end == std::string::npos ? std::string::npos : end - start);
    // Not quoted: user information may hold a password.
    if (host.find('@') != std::string::npos)
        throw std::invalid_argument(
            "the DynamoDB endpoint URL has user information (user@ or user:password@), which "
            "is not supported: credentials come from the AWS environment");
    if (host.empty()) throw std::invalid_argument("DynamoDB endpoint \"" + url + "\" has no host");
    return host;
}

DynamoConfig dynamodb_config_from_environment() {
    const CredentialSources sources = process_credential_sources();
    DynamoConfig config;
    config.region = resolve_region(sources);
    config.endpoint_override = dynamodb_endpoint_override(sources);
    config.credentials = resolve_credentials(sources);
    config.retry = dynamodb_retry_policy(sources.env("PGMIG_DYNAMODB_MAX_RETRIES"));
    return config;
}

DynamoClient::DynamoClient(DynamoConfig config)
    : config_(std::move(config)),
      url_(dynamodb_endpoint_url(config_.endpoint_override, config_.region)),
      host_(url_host(url_)),
      random_(std::random_device{}()),
      sleep_([](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }) {}

double DynamoClient::unit_random() {
    return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

std::optional<std::string> DynamoClient::attempt(const std::string &operation,
                                                 const std::string &body, DynamoErrorInfo &error) {
    SignableRequest signable;
    signable.method = "POST";
    signable.path = "/";
    signable.headers = {{"host", host_},
                        {"content-type", "application/x-amz-json-1.0"},
                        {"x-amz-target", kTargetPrefix + operation}};
    signable.payload_sha256_hex = sha256_hex(body);
    const SigningScope scope{amz_date(std::chrono::system_clock::now()), config_.region,
                             "dynamodb"};
    HttpRequest request;
    request.method = "POST";
    request.url = url_ + "/";
    request.headers = {{"Host", host_},
                       {"Content-Type", "application/x-amz-json-1.0"},
                       {"X-Amz-Target", kTargetPrefix + operation}};
    for (auto &h : signing_headers(signable, PathStyle::generic, scope, config_.credentials))
        request.headers.push_back(std::move(h));
    request.body = reinterpret_cast<const unsigned char *>(body.data());
    request.body_size = body.size();
    HttpResponse response;
    try {
        response = http_.send(request);
    } catch (const HttpTransportError &e) {
        error = DynamoErrorInfo{};
        error.curl_code = e.curl_code();
        error.message = e.what();
        return std::nullopt;
    }
    if (response.status >= 200 && response.status < 300) return std::move(response.body);
    error = parse_dynamo_error(response.status, response.body);
    return std::nullopt;
}

std::string DynamoClient::call(const std::string &operation, const std::string &table,
                               const std::string &body) {
    DynamoErrorInfo error;
    for (int attempts = 1;; ++attempts) {
        if (auto response = attempt(operation, body, error)) return std::move(*response);
        const bool retryable = is_retryable(error);
        if (!retryable || attempts > config_.retry.max_retries) {
            std::string what = "DynamoDB " + operation + " on table " + table + " failed";
            if (retryable)
                what += " " + std::to_string(attempts) + " times (PGMIG_DYNAMODB_MAX_RETRIES=" +
                        std::to_string(config_.retry.max_retries) + ")";
            what += ": " + describe_error(error);
            throw DynamoError(what, error, retryable);
        }
        sleep_(pgm::backoff_delay_ms(config_.retry, attempts, unit_random()));
    }
}

std::optional<nlohmann::json> DynamoClient::describe_table(const std::string &table) {
    const nlohmann::json request = {{"TableName", table}};
    try {
        const auto response = nlohmann::json::parse(call("DescribeTable", table, request.dump()));
        if (!response.contains("Table") || !response["Table"].is_object())
            throw std::runtime_error("DynamoDB DescribeTable on table " + table +
                                     " answered without a Table object");
        return response["Table"];
    } catch (const DynamoError &e) {
        if (e.type() == "ResourceNotFoundException") return std::nullopt;
        throw;
    }
}

void DynamoClient::create_table(const nlohmann::json &request, int timeout_seconds) {
    const std::string table = request.value("TableName", "");
    call("CreateTable", table, request.dump());
    // Creating a table takes seconds on AWS (minutes with indexes); poll on the shared
    // backoff schedule, which settles at one DescribeTable every 1-2 s.
    const pgm::RetryPolicy poll{0, 100, 2000};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
    std::string status;
    for (int round = 1;; ++round) {
        const auto description = describe_table(table);
        if (description) {
            status = description->value("TableStatus", "");
            bool indexes_active = true;
            if (description->contains("GlobalSecondaryIndexes"))
                for (const auto &index : (*description)["GlobalSecondaryIndexes"])
                    if (index.value("IndexStatus", "ACTIVE") != "ACTIVE") indexes_active = false;
            if (status == "ACTIVE" && indexes_active) return;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("DynamoDB table " + table + " was created but is not ACTIVE " +
                                     "after " + std::to_string(timeout_seconds) + " s (status " +
                                     (status.empty() ? "unknown" : status) +
                                     "): wait until it is, then run the restore again");
        sleep_(pgm::backoff_delay_ms(poll, round, unit_random()));
    }
}

uint64_t DynamoClient::count_items(const std::string &table) {
    nlohmann::json request = {{"TableName", table}, {"Select", "COUNT"}, {"ConsistentRead", true}};
    uint64_t count = 0;
    for (;;) {
        const auto page = nlohmann::json::parse(call("Scan", table, request.dump()));
        if (!page.contains("Count") || !page["Count"].is_number_unsigned())
            throw std::runtime_error("DynamoDB Scan on table " + table +
                                     " answered without a Count");
        count += page["Count"].get<uint64_t>();
        if (!page.contains("LastEvaluatedKey")) return count;
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"];
    }
}

}  // namespace pgmig::aws
