// ListMultipartUploads and AbortMultipartUpload for abandoned uploads: the parts of a
// multipart upload whose writer was killed stay in the bucket (and are billed) until the
// upload is aborted, and no object listing shows them. The pure parts are here, so they are
// unit-tested without a server (s3rver implements neither call).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aws/s3_config.hpp"

namespace pgmig::store {

struct ListedUpload {
    std::string key;  // the full key in the bucket
    std::string upload_id;
    std::string initiated;         // as S3 wrote it: "2026-11-22T03:59:00.000Z"
    int64_t initiated_epoch = -1;  // -1 when unreadable
};

struct UploadListingPage {
    std::vector<ListedUpload> uploads;
    bool truncated = false;
    std::string next_key_marker;
    std::string next_upload_id_marker;
};

// The query of one ListMultipartUploads page (GET /?uploads): `prefix` is the full key
// prefix in the bucket; the markers are those of the page before (empty for the first).
aws::QueryParams list_uploads_query(const std::string &prefix, const std::string &key_marker,
                                    const std::string &upload_id_marker);

// One ListMultipartUploadsResult page. Throws std::runtime_error when an upload has no key or
// id, or a truncated page gives no marker to continue from.
UploadListingPage parse_upload_listing(std::string_view xml);

// Seconds since the epoch of an S3 timestamp ("2026-11-22T03:59:00.000Z", fraction
// optional), or -1.
int64_t s3_time_epoch(const std::string &text);

}  // namespace pgmig::store
