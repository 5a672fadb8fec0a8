#include "store/s3_multipart_uploads.hpp"

#include <ctime>
#include <stdexcept>

#include "aws/xml_text.hpp"

namespace pgmig::store {

aws::QueryParams list_uploads_query(const std::string &prefix, const std::string &key_marker,
                                    const std::string &upload_id_marker) {
    aws::QueryParams query = {{"uploads", ""}, {"prefix", prefix}};
    if (!key_marker.empty()) query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) query.emplace_back("upload-id-marker", upload_id_marker);
    return query;
}

UploadListingPage parse_upload_listing(std::string_view xml) {
    UploadListingPage page;
    for (std::string_view upload : aws::xml::elements(xml, "Upload")) {
        ListedUpload u;
        u.key = aws::xml::first_text(upload, "Key").value_or("");
        u.upload_id = aws::xml::first_text(upload, "UploadId").value_or("");
        if (u.key.empty() || u.upload_id.empty())
            throw std::runtime_error(
                "the ListMultipartUploads response lists an upload without a key or an upload id");
        u.initiated = aws::xml::first_text(upload, "Initiated").value_or("");
        u.initiated_epoch = s3_time_epoch(u.initiated);
        page.uploads.push_back(std::move(u));
    }
    // Only the result's own elements: each <Upload> holds no IsTruncated or markers.
    page.truncated = aws::xml::first_text(xml, "IsTruncated").value_or("") == "true";
    page.next_key_marker = aws::xml::first_text(xml, "NextKeyMarker").value_or("");
    page.next_upload_id_marker = aws::xml::first_text(xml, "NextUploadIdMarker").value_or("");
    if (page.truncated && page.next_key_marker.empty() && page.next_upload_id_marker.empty())
        throw std::runtime_error(
            "the ListMultipartUploads response says more uploads follow but gives no marker");
    return page;
}

int64_t s3_time_epoch(const std::string &text) {
    std::tm tm{};
    const char *end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == nullptr) return -1;
    if (*end == '.')
        for (++end; *end >= '0' && *end <= '9'; ++end) {
        }
    if (*end != 'Z' || end[1] != '\0') return -1;
    return static_cast<int64_t>(timegm(&tm));
}

}  // namespace pgmig::store
