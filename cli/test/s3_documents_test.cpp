// The S3 store reads listings, upload ids and delete results out of S3's XML and writes the
// completion and delete requests; these are the documents S3 really sends and expects.
#include "aws/s3_documents.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

using namespace pgmig::aws;

TEST(S3ListPage, gives_keys_sizes_and_the_continuation_token) {
    const std::string page = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>backups/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>backups/a</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>
    <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>12</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>backups/b</Key><Size>18446744073709551615</Size></Contents>
</ListBucketResult>)";
    const ListPage parsed = parse_list_page(page);
    ASSERT_EQ(parsed.objects.size(), 2u);
    EXPECT_EQ(parsed.objects[0].key, "backups/a");
    EXPECT_EQ(parsed.objects[0].size, 12u);
    EXPECT_EQ(parsed.objects[1].size, 18446744073709551615u);
    EXPECT_TRUE(parsed.truncated);
    EXPECT_EQ(parsed.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(S3ListPage, the_last_page_is_not_truncated) {
    const ListPage parsed = parse_list_page(
        "<ListBucketResult><IsTruncated>false</IsTruncated>"
        "<Contents><Key>k</Key><Size>0</Size></Contents></ListBucketResult>");
    EXPECT_FALSE(parsed.truncated);
    EXPECT_EQ(parsed.objects.size(), 1u);
}

TEST(S3ListPage, an_empty_listing_has_no_objects) {
    const ListPage parsed = parse_list_page(
        "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated>"
        "</ListBucketResult>");
    EXPECT_TRUE(parsed.objects.empty());
}

TEST(S3ListPage, decodes_keys_with_xml_entities) {
    const ListPage parsed = parse_list_page(
        "<ListBucketResult><Contents><Key>t/a&amp;b &lt;1&gt;.bin</Key><Size>1</Size>"
        "</Contents></ListBucketResult>");
    ASSERT_EQ(parsed.objects.size(), 1u);
    EXPECT_EQ(parsed.objects[0].key, "t/a&b <1>.bin");
}

TEST(S3ListPage, refuses_a_page_it_cannot_trust) {
    EXPECT_THROW(parse_list_page("<L><Contents><Size>1</Size></Contents></L>"), std::runtime_error);
    EXPECT_THROW(parse_list_page("<L><Contents><Key>k</Key></Contents></L>"), std::runtime_error);
    EXPECT_THROW(parse_list_page("<L><Contents><Key>k</Key><Size>-1</Size></Contents></L>"),
                 std::runtime_error);
    EXPECT_THROW(parse_list_page(
                     "<L><Contents><Key>k</Key><Size>99999999999999999999</Size></Contents></L>"),
                 std::runtime_error);
    // Truncated without a token would loop forever or silently stop early.
    EXPECT_THROW(parse_list_page("<L><IsTruncated>true</IsTruncated></L>"), std::runtime_error);
}

TEST(S3ErrorDocument, gives_code_message_and_request_id) {
    const auto error = s3_error_document(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
        "<Message>The specified key does not exist.</Message><Key>a&amp;b</Key>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>");
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, "NoSuchKey");
    EXPECT_EQ(error->message, "The specified key does not exist.");
    EXPECT_EQ(error->request_id, "4442587FB7D0A2F9");
}

TEST(S3ErrorDocument, is_only_a_document_whose_root_is_error) {
    EXPECT_FALSE(s3_error_document("").has_value());
    EXPECT_FALSE(s3_error_document("<html><body>502 Bad Gateway</body></html>").has_value());
    EXPECT_FALSE(s3_error_document("<CompleteMultipartUploadResult><ETag>x</ETag>"
                                   "</CompleteMultipartUploadResult>")
                     .has_value());
    // A delete result listing failures is a success response, not an error document.
    EXPECT_FALSE(s3_error_document("<DeleteResult><Error><Code>AccessDenied</Code></Error>"
                                   "</DeleteResult>")
                     .has_value());
    // CompleteMultipartUpload can answer 200 with this:
    const auto error = s3_error_document(
        "<?xml version=\"1.0\"?>\n\n<Error><Code>InternalError</Code>"
        "<Message>We encountered an internal error. Please try again.</Message></Error>");
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->code, "InternalError");
}

TEST(S3Multipart, reads_the_upload_id) {
    EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                              "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
                              "</UploadId></InitiateMultipartUploadResult>"),
              "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    EXPECT_EQ(parse_upload_id("<InitiateMultipartUploadResult/>"), "");
}

TEST(S3Multipart, lists_the_parts_in_order_with_their_etags) {
    EXPECT_EQ(complete_upload_body({"\"a1\"", "\"b2\""}),
              "<CompleteMultipartUpload>"
              "<Part><PartNumber>1</PartNumber><ETag>&quot;a1&quot;</ETag></Part>"
              "<Part><PartNumber>2</PartNumber><ETag>&quot;b2&quot;</ETag></Part>"
              "</CompleteMultipartUpload>");
}

TEST(S3Delete, asks_quietly_for_escaped_keys) {
    EXPECT_EQ(delete_request_body({"p/a&b", "p/<c>"}),
              "<Delete><Quiet>true</Quiet>"
              "<Object><Key>p/a&amp;b</Key></Object><Object><Key>p/&lt;c&gt;</Key></Object>"
              "</Delete>");
}

TEST(S3Delete, reports_every_key_that_could_not_be_deleted) {
    const auto failures = parse_delete_failures(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Deleted><Key>p/ok</Key></Deleted>"
        "<Error><Key>p/a&amp;b</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
        "</Error>"
        "<Error><Key>p/c</Key><Code>InternalError</Code><Message>Try again</Message></Error>"
        "</DeleteResult>");
    ASSERT_EQ(failures.size(), 2u);
    EXPECT_EQ(failures[0].key, "p/a&b");
    EXPECT_EQ(failures[0].code, "AccessDenied");
    EXPECT_EQ(failures[0].message, "Access Denied");
    EXPECT_EQ(failures[1].key, "p/c");
}

TEST(S3Delete, a_result_with_only_deleted_keys_has_no_failures) {
    EXPECT_TRUE(
        parse_delete_failures("<DeleteResult><Deleted><Key>k</Key></Deleted></DeleteResult>")
            .empty());
    EXPECT_TRUE(parse_delete_failures("<DeleteResult/>").empty());
}

TEST(S3Delete, content_md5_is_the_base64_md5_of_the_body) {
    EXPECT_EQ(content_md5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    EXPECT_EQ(content_md5("The quick brown fox jumps over the lazy dog"),
              "nhB9nTcrtoJr2B01QqQZ1g==");
}
