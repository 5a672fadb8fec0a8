// backup prune aborts the multipart uploads a killed backup left behind. s3rver implements
// neither ListMultipartUploads nor AbortMultipartUpload, so the documents are tested here
// against what S3 itself sends (the example of the S3 API reference).
#include <gtest/gtest.h>

#include <stdexcept>

#include "store/s3_multipart_uploads.hpp"

using namespace pgmig::store;

TEST(S3UploadListing, reads_keys_upload_ids_start_times_and_the_markers) {
    const std::string page = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>prod/20261122T035900Z-1a2b3c/pg/0002.obj</NextKeyMarker>
  <NextUploadIdMarker>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</NextUploadIdMarker>
  <Prefix>prod/</Prefix><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload>
    <Key>prod/20261122T035900Z-1a2b3c/pg/0001.obj</Key>
    <UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyBtETYtbW92aWUubTJ0cyB1cGxvYWQ</UploadId>
    <Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>u</DisplayName></Initiator>
    <Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID></Owner>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2026-11-22T03:59:01.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>prod/20261122T035900Z-1a2b3c/pg/0002.obj</Key>
    <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
    <Initiated>2026-11-22T03:59:02Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)";
    const UploadListingPage parsed = parse_upload_listing(page);
    ASSERT_EQ(parsed.uploads.size(), 2u);
    EXPECT_EQ(parsed.uploads[0].key, "prod/20261122T035900Z-1a2b3c/pg/0001.obj");
    EXPECT_EQ(parsed.uploads[0].upload_id,
              "XXBsb2FkIElEIGZvciBlbHZpbmcncyBtETYtbW92aWUubTJ0cyB1cGxvYWQ");
    EXPECT_EQ(parsed.uploads[0].initiated_epoch, 1795319941);  // 2026-11-22T03:59:01Z
    EXPECT_EQ(parsed.uploads[1].initiated_epoch, 1795319942);
    EXPECT_TRUE(parsed.truncated);
    EXPECT_EQ(parsed.next_key_marker, "prod/20261122T035900Z-1a2b3c/pg/0002.obj");
    EXPECT_EQ(parsed.next_upload_id_marker,
              "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
}

TEST(S3UploadListing, no_uploads_is_an_empty_last_page) {
    const UploadListingPage parsed = parse_upload_listing(
        "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
        "</ListMultipartUploadsResult>");
    EXPECT_TRUE(parsed.uploads.empty());
    EXPECT_FALSE(parsed.truncated);
}

TEST(S3UploadListing, keys_with_xml_entities_are_decoded) {
    const UploadListingPage parsed = parse_upload_listing(
        "<ListMultipartUploadsResult><Upload><Key>a&amp;b</Key><UploadId>u</UploadId>"
        "<Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload></ListMultipartUploadsResult>");
    ASSERT_EQ(parsed.uploads.size(), 1u);
    EXPECT_EQ(parsed.uploads[0].key, "a&b");
}

TEST(S3UploadListing, refuses_an_upload_without_an_id_and_a_truncated_page_without_markers) {
    EXPECT_THROW(parse_upload_listing("<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
                                      "</ListMultipartUploadsResult>"),
                 std::runtime_error);
    EXPECT_THROW(parse_upload_listing("<ListMultipartUploadsResult><IsTruncated>true"
                                      "</IsTruncated></ListMultipartUploadsResult>"),
                 std::runtime_error);
}

TEST(S3UploadListing, an_unreadable_start_time_is_minus_one) {
    EXPECT_EQ(s3_time_epoch(""), -1);
    EXPECT_EQ(s3_time_epoch("yesterday"), -1);
    EXPECT_EQ(s3_time_epoch("2026-11-22T03:59:01.000"), -1);
    EXPECT_EQ(s3_time_epoch("2026-11-22T03:59:01.123456Z"), 1795319941);
}

TEST(S3UploadListing, the_query_lists_uploads_under_the_prefix_and_pages_by_both_markers) {
    EXPECT_EQ(list_uploads_query("prod/", "", ""),
              pgmig::aws::QueryParams({{"uploads", ""}, {"prefix", "prod/"}}));
    EXPECT_EQ(list_uploads_query("prod/", "prod/k", "id1"),
              pgmig::aws::QueryParams({{"uploads", ""},
                                       {"prefix", "prod/"},
                                       {"key-marker", "prod/k"},
                                       {"upload-id-marker", "id1"}}));
}
