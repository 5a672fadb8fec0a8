// AWS Signature Version 4 (AWS4-HMAC-SHA256) for requests signed in the Authorization header.
// Pure computation: nothing here sends a request or reads the clock.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"

namespace pgmig::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SignableRequest {
    std::string method;  // "GET"
    // PathStyle::s3: the decoded path, e.g. "/bucket/key with space"; send it as
    // uri_encode(path, false). PathStyle::generic: the path exactly as the request line
    // carries it (as the test suite's .req files show it).
    std::string path;
    // Decoded names and values, any order, duplicates allowed; ("uploads", "") for "?uploads".
    std::vector<std::pair<std::string, std::string>> query;
    // Every header that is sent and signed, any case and order; must include host.
    HeaderList headers;
    std::string payload_sha256_hex;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

enum class PathStyle {
    // Every service but S3: the path is normalized (dot segments removed, "//" collapsed) and
    // URI-encoded once more on top of the encoding it travels with.
    generic,
    // S3: object keys may hold "//" and "..", so the path is taken as is and encoded once.
    s3,
};

struct SigningScope {
    std::string date_time;  // ISO 8601 basic UTC, "20150830T123600Z"; also the X-Amz-Date value
    std::string region;     // "us-east-1"
    std::string service;    // "s3", "dynamodb"
};

// RFC 3986 percent-encoding: A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes %XX
// (uppercase hex); "/" too when encode_slash is set.
std::string uri_encode(std::string_view s, bool encode_slash);

std::string sha256_hex(std::string_view data);

// The "YYYYMMDDTHHMMSSZ" form of a moment, for SigningScope::date_time.
std::string amz_date(std::chrono::system_clock::time_point when);

// The query string as it is signed, also the one to send so that both agree: names and values
// encoded, pairs sorted by name then value, "name=" for an empty value.
std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>> &query);

// "host;x-amz-date": the lowercased, sorted, distinct header names that are signed.
std::string signed_headers(const HeaderList &headers);

// The canonical request (the test suite's .creq). Throws std::invalid_argument when the
// request has no host header or no payload hash.
std::string canonical_request(const SignableRequest &request, PathStyle style);

// "20150830/us-east-1/service/aws4_request". Throws std::invalid_argument when date_time is
// not in the YYYYMMDDTHHMMSSZ form.
std::string credential_scope(const SigningScope &scope);

// The string to sign (the test suite's .sts).
std::string string_to_sign(std::string_view canonical_request, const SigningScope &scope);

// The hex signature of a string to sign.
std::string signature(std::string_view string_to_sign, std::string_view secret_access_key,
                      const SigningScope &scope);

// The Authorization header value (the test suite's .authz), signing exactly the request's
// headers.
std::string authorization_header(const SignableRequest &request, PathStyle style,
                                 const SigningScope &scope, const Credentials &credentials);

// The headers to add to a request to sign it: X-Amz-Date, X-Amz-Security-Token (with a
// session token) and, for S3, x-amz-content-sha256 - each only if the request lacks it, and
// all of them signed - then Authorization. Throws std::invalid_argument when the request
// already carries an X-Amz-Date or x-amz-content-sha256 that contradicts the scope or payload.
HeaderList signing_headers(const SignableRequest &request, PathStyle style,
                           const SigningScope &scope, const Credentials &credentials);

}  // namespace pgmig::aws
