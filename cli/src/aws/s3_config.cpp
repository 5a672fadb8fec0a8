#include "aws/s3_config.hpp"

#include <stdexcept>

#include "aws/s3_retry.hpp"
#include "aws/sigv4.hpp"

namespace pgmig::aws {

namespace {

std::optional<std::string> non_empty(const EnvLookup &env, const std::string &name) {
    auto value = env(name);
    if (value && value->empty()) return std::nullopt;
    return value;
}

// A whole number in [min, max] from variable `name`; nullopt when unset.
std::optional<unsigned long long> env_number(const EnvLookup &env, const std::string &name,
                                             unsigned long long min, unsigned long long max,
                                             const std::string &range_text) {
    const auto text = non_empty(env, name);
    if (!text) return std::nullopt;
    unsigned long long value = 0;
    bool valid = text->size() <= 12;
    for (char c : *text) {
        if (c < '0' || c > '9') valid = false;
        if (valid) value = value * 10 + static_cast<unsigned long long>(c - '0');
    }
    if (!valid || value < min || value > max)
        throw std::invalid_argument(name + " must be " + range_text + ", not \"" + *text + "\"");
    return value;
}

std::string trim_slashes(std::string s) {
    while (!s.empty() && s.front() == '/') s.erase(0, 1);
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

// scheme://authority and the base path (no trailing '/') of an endpoint URL.
std::pair<std::string, std::string> split_endpoint(const std::string &endpoint) {
    const size_t scheme_end = endpoint.find("://");
    const size_t path_start =
        scheme_end == std::string::npos ? std::string::npos : endpoint.find('/', scheme_end + 3);
    if (path_start == std::string::npos) return {endpoint, ""};
    std::string base = endpoint.substr(path_start);
    while (!base.empty() && base.back() == '/') base.pop_back();
    return {endpoint.substr(0, path_start), base};
}

}  // namespace

S3Config s3_config(const std::string &url, const std::string &region, const EnvLookup &env) {
    S3Config config;
    if (url.rfind("s3://", 0) != 0)
        throw std::invalid_argument("\"" + url + "\" is not an S3 URL: use s3://bucket[/prefix]");
    const std::string rest = url.substr(5);
    const size_t slash = rest.find('/');
    config.bucket = rest.substr(0, slash);
    config.prefix = slash == std::string::npos ? "" : trim_slashes(rest.substr(slash + 1));
    if (config.bucket.empty() || config.bucket.find_first_of("?#:@ ") != std::string::npos)
        throw std::invalid_argument("store URL \"" + url +
                                    "\" names no valid bucket: use s3://bucket[/prefix]");
    config.region = region.empty() ? "us-east-1" : region;

    const auto endpoint = [&]() -> std::optional<std::string> {
        if (auto e = non_empty(env, "AWS_ENDPOINT_URL_S3")) return e;
        return non_empty(env, "AWS_ENDPOINT_URL");
    }();
    if (endpoint) {
        if (endpoint->rfind("http://", 0) != 0 && endpoint->rfind("https://", 0) != 0)
            throw std::invalid_argument("the S3 endpoint \"" + *endpoint +
                                        "\" (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) must "
                                        "start with http:// or https://");
        const size_t host_start = endpoint->find("://") + 3;
        if (host_start >= endpoint->size() || (*endpoint)[host_start] == '/')
            throw std::invalid_argument("the S3 endpoint \"" + *endpoint + "\" names no host");
        config.endpoint = *endpoint;
        while (config.endpoint.back() == '/') config.endpoint.pop_back();
    } else {
        const bool china = config.region.rfind("cn-", 0) == 0;
        config.endpoint = "https://s3." + config.region + ".amazonaws.com" + (china ? ".cn" : "");
    }

    const auto path_style = non_empty(env, "PGMIG_S3_PATH_STYLE");
    if (path_style && *path_style != "0" && *path_style != "1")
        throw std::invalid_argument(
            "PGMIG_S3_PATH_STYLE must be 1 (path-style) or 0 "
            "(virtual-host style), not \"" +
            *path_style + "\"");
    if (path_style)
        config.path_style = *path_style == "1";
    else
        config.path_style = endpoint.has_value() || config.bucket.find('.') != std::string::npos;

    if (auto size = env_number(env, "PGMIG_S3_PART_SIZE", kMinPartSize, kMaxPartSize,
                               "a size in bytes from 1048576 (1 MiB) to 5368709120 (5 GiB)"))
        config.part_size = static_cast<size_t>(*size);
    if (auto page = env_number(env, "PGMIG_S3_LIST_PAGE", 1, 1000, "from 1 to 1000"))
        config.list_page_size = static_cast<int>(*page);
    config.retry = s3_retry_policy(non_empty(env, "PGMIG_S3_MAX_RETRIES"));

    config.storage_class = non_empty(env, "PGMIG_S3_STORAGE_CLASS").value_or("");
    config.sse = non_empty(env, "PGMIG_S3_SSE").value_or("");
    config.sse_kms_key_id = non_empty(env, "PGMIG_S3_SSE_KMS_KEY_ID").value_or("");
    if (!config.sse.empty() && config.sse != "AES256" && config.sse != "aws:kms")
        throw std::invalid_argument("PGMIG_S3_SSE must be AES256 or aws:kms, not \"" + config.sse +
                                    "\"");
    if (!config.sse_kms_key_id.empty() && config.sse != "aws:kms")
        throw std::invalid_argument(
            "PGMIG_S3_SSE_KMS_KEY_ID is set but PGMIG_S3_SSE is not "
            "aws:kms: set PGMIG_S3_SSE=aws:kms to use the KMS key");
    return config;
}

S3Address s3_address(const S3Config &config, const std::string &object_key,
                     const QueryParams &query) {
    const auto [origin, base_path] = split_endpoint(config.endpoint);
    const size_t scheme_end = origin.find("://") + 3;
    const std::string scheme = origin.substr(0, scheme_end);
    std::string authority = origin.substr(scheme_end);

    S3Address address;
    address.path = base_path;
    if (config.path_style) {
        address.path += "/" + config.bucket;
        if (!object_key.empty()) address.path += "/" + object_key;
    } else {
        authority = config.bucket + "." + authority;
        address.path += "/" + object_key;
    }
    address.host = authority;
    address.url = scheme + authority + uri_encode(address.path, false);
    if (!query.empty()) address.url += "?" + canonical_query_string(query);
    return address;
}

std::string bucket_key(const S3Config &config, const std::string &key) {
    return config.prefix.empty() ? key : config.prefix + "/" + key;
}

size_t part_size_for(size_t base, int part_number) {
    size_t size = base;
    for (int group = (part_number - 1) / 1000; group > 0 && size < kMaxPartSize; --group) size *= 2;
    return size < kMaxPartSize ? size : kMaxPartSize;
}

}  // namespace pgmig::aws
