#include "aws/sigv4.hpp"

#include "aws/ascii.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <stdexcept>
#include <vector>

namespace pgmig::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string to_hex(const unsigned char *bytes, size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (size_t i = 0; i < size; ++i) {
        out += kDigits[bytes[i] >> 4];
        out += kDigits[bytes[i] & 0x0f];
    }
    return out;
}

// Raw (binary) HMAC-SHA256, as the signing-key chain feeds each result in as the next key.
std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char *>(data.data()), data.size(), out,
             &size) == nullptr)
        throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
    return std::string(reinterpret_cast<const char *>(out), size);
}

// RFC 3986 section 5.2.4, plus collapsing empty segments ("//"), which the AWS test suite
// expects of every service but S3.
std::string normalize_path(std::string_view path) {
    std::vector<std::string_view> kept;
    bool last_was_dot = false;
    size_t pos = 0;
    while (pos < path.size()) {
        size_t slash = path.find('/', pos);
        if (slash == std::string_view::npos) slash = path.size();
        const std::string_view segment = path.substr(pos, slash - pos);
        pos = slash + 1;
        if (segment.empty()) continue;
        if (segment == "." || segment == "..") {
            if (segment == ".." && !kept.empty()) kept.pop_back();
            last_was_dot = true;
            continue;
        }
        kept.push_back(segment);
        last_was_dot = false;
    }
    // "/a/b/.." names the directory "/a/", not the file "/a".
    const bool ends_with_slash = last_was_dot || (!path.empty() && path.back() == '/');
    std::string out = "/";
    for (size_t i = 0; i < kept.size(); ++i) {
        if (i > 0) out += '/';
        out += kept[i];
    }
    if (ends_with_slash && !kept.empty()) out += '/';
    return out;
}

std::string canonical_uri(std::string_view path, PathStyle style) {
    if (style == PathStyle::s3) return path.empty() ? "/" : uri_encode(path, false);
    return uri_encode(normalize_path(path), false);
}

// One header value as signed: surrounding blanks removed and inner runs of blanks collapsed to
// one space; the lines of a folded (multi-line) value are joined with commas, as the suite's
// get-header-value-multiline expects.
std::string canonical_header_value(std::string_view value) {
    std::string out;
    size_t start = 0;
    while (start <= value.size()) {
        size_t end = value.find('\n', start);
        if (end == std::string_view::npos) end = value.size();
        const std::string_view line = trim(value.substr(start, end - start));
        start = end + 1;
        if (line.empty()) continue;
        if (!out.empty()) out += ',';
        bool after_blank = false;
        for (char c : line) {
            if (is_blank(c)) {
                after_blank = true;
                continue;
            }
            if (after_blank) out += ' ';
            after_blank = false;
            out += c;
        }
    }
    return out;
}

// Lowercased name -> canonical value; repeated names are joined with commas in sending order.
std::map<std::string, std::string> canonical_headers(const HeaderList &headers) {
    std::map<std::string, std::string> out;
    for (const auto &[name, value] : headers) {
        const std::string key = lowercase(trim(name));
        const std::string canonical = canonical_header_value(value);
        const auto [it, inserted] = out.emplace(key, canonical);
        if (!inserted) it->second += "," + canonical;
    }
    return out;
}

std::string join_names(const std::map<std::string, std::string> &headers) {
    std::string out;
    for (const auto &entry : headers) {
        if (!out.empty()) out += ';';
        out += entry.first;
    }
    return out;
}

const std::string *find_header(const HeaderList &headers, std::string_view lowercase_name) {
    for (const auto &[name, value] : headers)
        if (lowercase(trim(name)) == lowercase_name) return &value;
    return nullptr;
}

bool is_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (c == '/' && !encode_slash)) {
            out += ch;
        } else {
            out += '%';
            out += kDigits[c >> 4];
            out += kDigits[c & 0x0f];
        }
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), out, &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed in OpenSSL");
    return to_hex(out, size);
}

std::string amz_date(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
    return text;
}

std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>> &query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto &[name, value] : query)
        encoded.emplace_back(uri_encode(name, true), uri_encode(value, true));
    // Sorted on the encoded form, byte by byte, as AWS compares them.
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto &[name, value] : encoded) {
        if (!out.empty()) out += '&';
        out += name;
        out += '=';
        out += value;
    }
    return out;
}

std::string signed_headers(const HeaderList &headers) {
    return join_names(canonical_headers(headers));
}

std::string canonical_request(const SignableRequest &request, PathStyle style) {
    const auto headers = canonical_headers(request.headers);
    if (headers.count("host") == 0)
        throw std::invalid_argument("SigV4: the request to sign has no Host header");
    if (request.payload_sha256_hex.empty())
        throw std::invalid_argument(
            "SigV4: the request to sign has no payload hash (hex SHA-256 of the body, or "
            "UNSIGNED-PAYLOAD)");
    std::string out = request.method;
    out += '\n';
    out += canonical_uri(request.path, style);
    out += '\n';
    out += canonical_query_string(request.query);
    out += '\n';
    for (const auto &[name, value] : headers) {
        out += name;
        out += ':';
        out += value;
        out += '\n';
    }
    out += '\n';
    out += join_names(headers);
    out += '\n';
    out += request.payload_sha256_hex;
    return out;
}

std::string credential_scope(const SigningScope &scope) {
    const std::string_view dt = scope.date_time;
    if (dt.size() != 16 || !is_digits(dt.substr(0, 8)) || dt[8] != 'T' ||
        !is_digits(dt.substr(9, 6)) || dt[15] != 'Z')
        throw std::invalid_argument("SigV4: date_time \"" + scope.date_time +
                                    "\" is not in the form YYYYMMDDTHHMMSSZ");
    if (scope.region.empty()) throw std::invalid_argument("SigV4: the signing scope has no region");
    if (scope.service.empty())
        throw std::invalid_argument("SigV4: the signing scope has no service");
    return scope.date_time.substr(0, 8) + "/" + scope.region + "/" + scope.service +
           "/aws4_request";
}

std::string string_to_sign(std::string_view canonical_request, const SigningScope &scope) {
    std::string out(kAlgorithm);
    out += '\n';
    out += scope.date_time;
    out += '\n';
    out += credential_scope(scope);
    out += '\n';
    out += sha256_hex(canonical_request);
    return out;
}

std::string signature(std::string_view string_to_sign, std::string_view secret_access_key,
                      const SigningScope &scope) {
    credential_scope(scope);  // validates the scope before it goes into the key
    std::string key = "AWS4";
    key += secret_access_key;
    key = hmac_sha256(key, scope.date_time.substr(0, 8));
    key = hmac_sha256(key, scope.region);
    key = hmac_sha256(key, scope.service);
    key = hmac_sha256(key, "aws4_request");
    const std::string mac = hmac_sha256(key, string_to_sign);
    return to_hex(reinterpret_cast<const unsigned char *>(mac.data()), mac.size());
}

std::string authorization_header(const SignableRequest &request, PathStyle style,
                                 const SigningScope &scope, const Credentials &credentials) {
    if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
        throw std::invalid_argument("SigV4: credentials need an access key id and a secret key");
    const std::string creq = canonical_request(request, style);
    std::string out(kAlgorithm);
    out += " Credential=";
    out += credentials.access_key_id;
    out += '/';
    out += credential_scope(scope);
    out += ", SignedHeaders=";
    out += signed_headers(request.headers);
    out += ", Signature=";
    out += signature(string_to_sign(creq, scope), credentials.secret_access_key, scope);
    return out;
}

HeaderList signing_headers(const SignableRequest &request, PathStyle style,
                           const SigningScope &scope, const Credentials &credentials) {
    HeaderList added;
    if (const std::string *date = find_header(request.headers, "x-amz-date")) {
        if (canonical_header_value(*date) != scope.date_time)
            throw std::invalid_argument("SigV4: the request's X-Amz-Date " + *date +
                                        " differs from the signing time " + scope.date_time);
    } else {
        added.emplace_back("X-Amz-Date", scope.date_time);
    }
    if (!credentials.session_token.empty()) {
        if (const std::string *token = find_header(request.headers, "x-amz-security-token")) {
            // The token is a secret too: say that it differs, never what it is.
            if (canonical_header_value(*token) != credentials.session_token)
                throw std::invalid_argument(
                    "SigV4: the request's X-Amz-Security-Token differs from the session token");
        } else {
            added.emplace_back("X-Amz-Security-Token", credentials.session_token);
        }
    }
    if (style == PathStyle::s3) {
        if (const std::string *hash = find_header(request.headers, "x-amz-content-sha256")) {
            if (canonical_header_value(*hash) != request.payload_sha256_hex)
                throw std::invalid_argument("SigV4: the request's x-amz-content-sha256 " + *hash +
                                            " differs from its payload hash " +
                                            request.payload_sha256_hex);
        } else {
            // S3 refuses requests without it, and it must be signed.
            added.emplace_back("x-amz-content-sha256", request.payload_sha256_hex);
        }
    }
    SignableRequest complete = request;
    complete.headers.insert(complete.headers.end(), added.begin(), added.end());
    added.emplace_back("Authorization", authorization_header(complete, style, scope, credentials));
    return added;
}

}  // namespace pgmig::aws
