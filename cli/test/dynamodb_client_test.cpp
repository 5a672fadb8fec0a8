// pgmig talks to DynamoDB where the AWS CLI would (or where AWS_ENDPOINT_URL_DYNAMODB says),
// retries what may succeed later (throttling, server trouble, dropped connections) and
// nothing else, and its errors say what DynamoDB said - never a credential.
#include "aws/dynamodb_client.hpp"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <map>

using namespace pgmig::aws;

namespace {

CredentialSources environment(std::map<std::string, std::string> vars) {
    CredentialSources sources;
    sources.env = [vars](const std::string &name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    sources.read_file = [](const std::string &) -> std::optional<std::string> {
        return std::nullopt;
    };
    return sources;
}

}  // namespace

TEST(DynamoErrors, are_read_from_the_type_after_the_hash_and_the_message) {
    const auto e = parse_dynamo_error(
        400,
        R"({"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",)"
        R"("message":"The level of configured provisioned throughput for the table was exceeded"})");
    EXPECT_EQ(e.type, "ProvisionedThroughputExceededException");
    EXPECT_EQ(e.message,
              "The level of configured provisioned throughput for the table was exceeded");
    EXPECT_EQ(describe_error(e),
              "ProvisionedThroughputExceededException: The level of configured provisioned "
              "throughput for the table was exceeded (HTTP 400)");
}

TEST(DynamoErrors, read_a_capitalized_message_and_a_type_without_namespace) {
    const auto e = parse_dynamo_error(400, R"({"__type":"ValidationException","Message":"bad"})");
    EXPECT_EQ(e.type, "ValidationException");
    EXPECT_EQ(e.message, "bad");
}

TEST(DynamoErrors, quote_the_start_of_a_body_that_is_not_a_dynamodb_error) {
    const auto e = parse_dynamo_error(502, "<html>\n<h1>Bad Gateway</h1>" + std::string(500, 'x'));
    EXPECT_EQ(e.type, "");
    EXPECT_EQ(e.message.substr(0, 26), "<html> <h1>Bad Gateway</h1");
    EXPECT_LT(e.message.size(), 220u);
    EXPECT_EQ(describe_error(e).substr(0, 13), "error: <html>");
}

TEST(DynamoErrors, retry_throttling_and_server_trouble) {
    for (const char *type : {"ProvisionedThroughputExceededException", "ThrottlingException",
                             "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable"})
        EXPECT_TRUE(is_retryable_dynamo_response(400, type)) << type;
    EXPECT_TRUE(is_retryable_dynamo_response(500, ""));
    EXPECT_TRUE(is_retryable_dynamo_response(503, ""));
    EXPECT_TRUE(is_retryable(DynamoErrorInfo{0, CURLE_COULDNT_CONNECT, "", "refused"}));
    EXPECT_TRUE(is_retryable(DynamoErrorInfo{0, CURLE_RECV_ERROR, "", "reset"}));
}

TEST(DynamoErrors, do_not_retry_what_would_fail_again) {
    for (const char *type : {"ValidationException", "ResourceNotFoundException",
                             "AccessDeniedException", "UnrecognizedClientException",
                             "ConditionalCheckFailedException", "ResourceInUseException"})
        EXPECT_FALSE(is_retryable_dynamo_response(400, type)) << type;
    EXPECT_FALSE(is_retryable_dynamo_response(413, ""));
    EXPECT_FALSE(is_retryable(DynamoErrorInfo{0, CURLE_URL_MALFORMAT, "", "bad url"}));
}

TEST(DynamoErrors, never_carry_the_secret_key_or_session_token) {
    DynamoConfig config;
    config.region = "eu-west-1";
    config.endpoint_override = "http://127.0.0.1:1";  // nothing listens on port 1
    config.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                          "SeSsIoNtOkEn"};
    config.retry.max_retries = 2;
    DynamoClient client(config);
    std::vector<int> sleeps;
    client.set_sleeper([&sleeps](int ms) { sleeps.push_back(ms); });
    try {
        client.call("DescribeTable", "orders", R"({"TableName":"orders"})");
        FAIL() << "expected an error";
    } catch (const DynamoError &e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("DynamoDB DescribeTable on table orders failed 3 times"),
                  std::string::npos)
            << what;
        EXPECT_EQ(what.find("wJalrXUtnFEMI"), std::string::npos) << what;
        EXPECT_EQ(what.find("SeSsIoNtOkEn"), std::string::npos) << what;
        EXPECT_TRUE(e.retryable());
    }
    EXPECT_EQ(sleeps.size(), 2u);  // backed off before each of the two retries
}

TEST(DynamoEndpoint, prefers_the_dynamodb_endpoint_then_the_general_one) {
    EXPECT_EQ(
        dynamodb_endpoint_override(environment(
            {{"AWS_ENDPOINT_URL", "http://a:1"}, {"AWS_ENDPOINT_URL_DYNAMODB", "http://b:2"}})),
        "http://b:2");
    EXPECT_EQ(dynamodb_endpoint_override(environment({{"AWS_ENDPOINT_URL", "http://a:1"}})),
              "http://a:1");
    EXPECT_EQ(dynamodb_endpoint_override(environment({})), "");
}

TEST(DynamoEndpoint, is_the_regional_aws_endpoint_without_an_override) {
    EXPECT_EQ(dynamodb_endpoint_url("", "eu-central-1"),
              "https://dynamodb.eu-central-1.amazonaws.com");
    EXPECT_EQ(dynamodb_endpoint_url("http://127.0.0.1:8000/", "eu-central-1"),
              "http://127.0.0.1:8000");
}

TEST(DynamoEndpoint, signs_the_host_and_port_of_the_url) {
    EXPECT_EQ(url_host("http://127.0.0.1:8000"), "127.0.0.1:8000");
    EXPECT_EQ(url_host("https://dynamodb.us-east-1.amazonaws.com/"),
              "dynamodb.us-east-1.amazonaws.com");
    EXPECT_THROW(url_host("dynamodb.local:8000"), std::invalid_argument);
    EXPECT_THROW(url_host("http://"), std::invalid_argument);
    try {
        url_host("http://user:s3cr3t@host/");
        FAIL() << "expected an error";
    } catch (const std::invalid_argument &e) {
        EXPECT_EQ(std::string(e.what()).find("s3cr3t"), std::string::npos) << e.what();
    }
}

TEST(DynamoRetryPolicy, defaults_to_ten_retries_from_50_ms_up_to_5_s) {
    const auto p = dynamodb_retry_policy(std::nullopt);
    EXPECT_EQ(p.max_retries, 10);
    EXPECT_EQ(p.base_delay_ms, 50);
    EXPECT_EQ(p.max_delay_ms, 5000);
    EXPECT_EQ(dynamodb_retry_policy(std::string("3")).max_retries, 3);
    EXPECT_THROW(dynamodb_retry_policy(std::string("-1")), std::invalid_argument);
    EXPECT_THROW(dynamodb_retry_policy(std::string("101")), std::invalid_argument);
    EXPECT_THROW(dynamodb_retry_policy(std::string("")), std::invalid_argument);
}
