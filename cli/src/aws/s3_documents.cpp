#include "aws/s3_documents.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "aws/xml_text.hpp"

namespace pgmig::aws {

namespace {

std::string text_of(std::string_view xml, std::string_view name) {
    return xml::first_text(xml, name).value_or("");
}

bool parse_size(const std::string &text, uint64_t &size) {
    if (text.empty()) return false;
    size = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        const auto digit = static_cast<uint64_t>(c - '0');
        if (size > (UINT64_MAX - digit) / 10) return false;
        size = size * 10 + digit;
    }
    return true;
}

}  // namespace

std::optional<S3ErrorDocument> s3_error_document(std::string_view body) {
    if (xml::root_name(body) != "Error") return std::nullopt;
    S3ErrorDocument error;
    error.code = text_of(body, "Code");
    error.message = text_of(body, "Message");
    error.request_id = text_of(body, "RequestId");
    return error;
}

ListPage parse_list_page(std::string_view xml) {
    ListPage page;
    for (std::string_view contents : xml::elements(xml, "Contents")) {
        ListedObject object;
        const auto key = xml::first_text(contents, "Key");
        if (!key || key->empty())
            throw std::runtime_error("the ListObjectsV2 response lists an object without a key");
        object.key = *key;
        if (!parse_size(text_of(contents, "Size"), object.size))
            throw std::runtime_error("the ListObjectsV2 response gives object " + object.key +
                                     " no readable size");
        page.objects.push_back(std::move(object));
    }
    page.truncated = text_of(xml, "IsTruncated") == "true";
    page.next_continuation_token = text_of(xml, "NextContinuationToken");
    if (page.truncated && page.next_continuation_token.empty())
        throw std::runtime_error(
            "the ListObjectsV2 response says more keys follow but gives no continuation token");
    return page;
}

std::string parse_upload_id(std::string_view xml) {
    return text_of(xml, "UploadId");
}

std::string complete_upload_body(const std::vector<std::string> &etags) {
    std::string out = "<CompleteMultipartUpload>";
    for (size_t i = 0; i < etags.size(); ++i) {
        out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
               xml::escape(etags[i]) + "</ETag></Part>";
    }
    out += "</CompleteMultipartUpload>";
    return out;
}

std::string delete_request_body(const std::vector<std::string> &keys) {
    std::string out = "<Delete><Quiet>true</Quiet>";
    for (const auto &key : keys) out += "<Object><Key>" + xml::escape(key) + "</Key></Object>";
    out += "</Delete>";
    return out;
}

std::vector<DeleteFailure> parse_delete_failures(std::string_view xml) {
    std::vector<DeleteFailure> out;
    for (std::string_view error : xml::elements(xml, "Error"))
        out.push_back({text_of(error, "Key"), text_of(error, "Code"), text_of(error, "Message")});
    return out;
}

std::string content_md5(std::string_view body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(body.data(), body.size(), digest, &size, EVP_md5(), nullptr) != 1)
        throw std::runtime_error("MD5 failed in OpenSSL");
    unsigned char encoded[2 * EVP_MAX_MD_SIZE];
    const int length = EVP_EncodeBlock(encoded, digest, static_cast<int>(size));
    return std::string(reinterpret_cast<const char *>(encoded), static_cast<size_t>(length));
}

}  // namespace pgmig::aws
