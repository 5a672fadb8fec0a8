// The XML documents the S3 store sends and reads: error documents, ListObjectsV2 pages,
// multipart upload ids and completion lists, DeleteObjects requests and results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::aws {

struct S3ErrorDocument {
    std::string code;     // "NoSuchKey", "SignatureDoesNotMatch"
    std::string message;  // S3's sentence
    std::string request_id;
};

// The error a response body reports: a document whose root element is <Error>. Bodies that are
// not (a DeleteObjects result listing <Error> entries, an HTML page from a proxy) give nullopt.
std::optional<S3ErrorDocument> s3_error_document(std::string_view body);

struct ListedObject {
    std::string key;  // the full key in the bucket
    uint64_t size = 0;
};

struct ListPage {
    std::vector<ListedObject> objects;
    bool truncated = false;
    std::string next_continuation_token;
};

// One ListObjectsV2 page. Throws std::runtime_error when a listed object has no key or an
// unreadable size, or a truncated page gives no token to continue from.
ListPage parse_list_page(std::string_view xml);

// The UploadId of an InitiateMultipartUploadResult; empty when it has none.
std::string parse_upload_id(std::string_view xml);

// The CompleteMultipartUpload body for parts 1..etags.size(), in that order.
std::string complete_upload_body(const std::vector<std::string> &etags);

// A quiet DeleteObjects body (only failures are reported back).
std::string delete_request_body(const std::vector<std::string> &keys);

struct DeleteFailure {
    std::string key;
    std::string code;
    std::string message;
};

// The <Error> entries of a DeleteObjectsResult.
std::vector<DeleteFailure> parse_delete_failures(std::string_view xml);

// The Content-MD5 header value of a body: base64 of its MD5 digest. DeleteObjects requires it.
std::string content_md5(std::string_view body);

}  // namespace pgmig::aws
