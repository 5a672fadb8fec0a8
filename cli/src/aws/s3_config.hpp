// Where an s3:// store's requests go and how its objects are uploaded, decided once from the
// store URL and the environment. Pure: the environment comes in as a lookup function, so the
// addressing rules are unit-tested without a server.
//
// Environment:
//   AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL   a custom endpoint (MinIO, s3rver, ...);
//                                                else https://s3.<region>.amazonaws.com
//   PGMIG_S3_PATH_STYLE=1|0   force path-style (<endpoint>/<bucket>/<key>) or virtual-host
//                             (<bucket>.<endpoint host>/<key>) requests. Unset: path-style
//                             with a custom endpoint or a bucket name holding a dot (which
//                             no wildcard TLS certificate covers), virtual-host otherwise.
//   PGMIG_S3_PART_SIZE        multipart part size in bytes, 1 MiB to 5 GiB (default 8 MiB).
//                             S3 itself refuses parts under 5 MiB (EntityTooSmall when the
//                             upload completes); smaller values are for test servers.
//   PGMIG_S3_STORAGE_CLASS, PGMIG_S3_SSE (AES256 | aws:kms), PGMIG_S3_SSE_KMS_KEY_ID
//                             sent with new objects.
//   PGMIG_S3_MAX_RETRIES      retries of a failed request (default 5).
//   PGMIG_S3_LIST_PAGE        keys per listing page, 1 to 1000 (default: the server's, 1000).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "retry_policy.hpp"

namespace pgmig::aws {

using EnvLookup = std::function<std::optional<std::string>(const std::string &name)>;
using QueryParams = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kDefaultPartSize = 8 * kMiB;
constexpr size_t kMinPartSize = kMiB;
constexpr size_t kMaxPartSize = size_t{5} << 30;
constexpr int kMaxParts = 10000;  // S3's limit per multipart upload
constexpr int kParallelParts = 4;

struct S3Config {
    std::string bucket;
    std::string prefix;    // no leading or trailing '/'; empty for the bucket's root
    std::string region;    // signing region
    std::string endpoint;  // scheme://host[:port][/base], no trailing '/'
    bool path_style = false;
    size_t part_size = kDefaultPartSize;
    int list_page_size = 0;  // 0: the server's default
    std::string storage_class;
    std::string sse;  // x-amz-server-side-encryption
    std::string sse_kms_key_id;
    pgm::RetryPolicy retry;
};

// The configuration of the store at `url` (s3://bucket[/prefix]) in `region`. Throws
// std::invalid_argument naming the URL or variable at fault and the accepted values.
S3Config s3_config(const std::string &url, const std::string &region, const EnvLookup &env);

struct S3Address {
    std::string url;   // what goes on the wire: endpoint, encoded path, canonical query
    std::string host;  // the Host header, signed
    std::string path;  // the decoded path that is signed (PathStyle::s3)
};

// The address of a request about `object_key` (the key in the bucket, store prefix included;
// empty for the bucket itself). The query is sent in canonical order, exactly as signed.
S3Address s3_address(const S3Config &config, const std::string &object_key,
                     const QueryParams &query);

// The key in the bucket of the store's object `key`: "<prefix>/<key>".
std::string bucket_key(const S3Config &config, const std::string &key);

// The size of part `part_number` (1-based) of an upload: `base` for the first 1000 parts,
// then doubling every 1000 parts (up to 5 GiB), so that an object of any size fits in S3's
// 10,000 parts while small objects keep small buffers.
size_t part_size_for(size_t base, int part_number);

}  // namespace pgmig::aws
