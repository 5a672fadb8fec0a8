// A user points pgmig at s3://bucket/prefix and, optionally, at an S3-compatible endpoint;
// every request must then go to the right host and path, with the query in the order it was
// signed in, and a bad setting must be refused with the variable's name.
#include "aws/s3_config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

using namespace pgmig::aws;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string &name) -> std::optional<std::string> {
        const auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

S3Config config(const std::string &url, std::map<std::string, std::string> vars = {},
                const std::string &region = "eu-west-1") {
    return s3_config(url, region, env_of(std::move(vars)));
}

// The message of the std::invalid_argument s3_config throws.
std::string refusal(const std::string &url, std::map<std::string, std::string> vars) {
    try {
        config(url, std::move(vars));
    } catch (const std::invalid_argument &error) {
        return error.what();
    }
    ADD_FAILURE() << "accepted " << url;
    return {};
}

}  // namespace

TEST(S3Url, splits_bucket_and_prefix) {
    const S3Config c = config("s3://my-bucket/backups/prod/");
    EXPECT_EQ(c.bucket, "my-bucket");
    EXPECT_EQ(c.prefix, "backups/prod");
    EXPECT_EQ(config("s3://my-bucket").prefix, "");
    EXPECT_EQ(config("s3://my-bucket/").prefix, "");
    EXPECT_EQ(config("s3://my-bucket//x//").prefix, "x");
}

TEST(S3Url, without_a_bucket_is_refused) {
    EXPECT_NE(refusal("s3://", {}).find("s3://bucket"), std::string::npos);
    EXPECT_NE(refusal("s3:///prefix", {}).find("s3://bucket"), std::string::npos);
    EXPECT_NE(refusal("s3://user@bucket/p", {}).find("bucket"), std::string::npos);
}

TEST(S3Addressing, uses_virtual_host_style_on_aws) {
    const S3Config c = config("s3://my-bucket/backups");
    EXPECT_FALSE(c.path_style);
    const S3Address a = s3_address(c, bucket_key(c, "base/manifest.json"), {});
    EXPECT_EQ(a.url, "https://my-bucket.s3.eu-west-1.amazonaws.com/backups/base/manifest.json");
    EXPECT_EQ(a.host, "my-bucket.s3.eu-west-1.amazonaws.com");
    EXPECT_EQ(a.path, "/backups/base/manifest.json");
}

TEST(S3Addressing, addresses_the_bucket_itself_for_listings) {
    const S3Config c = config("s3://my-bucket");
    EXPECT_EQ(s3_address(c, "", {{"list-type", "2"}}).url,
              "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2");
    EXPECT_EQ(s3_address(c, "", {}).path, "/");
    const S3Config p = config("s3://my-bucket", {{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"}});
    EXPECT_EQ(s3_address(p, "", {{"list-type", "2"}}).url,
              "http://127.0.0.1:9000/my-bucket?list-type=2");
    EXPECT_EQ(s3_address(p, "", {}).path, "/my-bucket");
}

TEST(S3Addressing, uses_path_style_with_a_custom_endpoint) {
    const S3Config c = config("s3://b/p", {{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"}});
    EXPECT_TRUE(c.path_style);
    const S3Address a = s3_address(c, bucket_key(c, "k"), {});
    EXPECT_EQ(a.url, "http://127.0.0.1:9000/b/p/k");
    EXPECT_EQ(a.host, "127.0.0.1:9000");
    EXPECT_EQ(a.path, "/b/p/k");
}

TEST(S3Addressing, prefers_the_s3_specific_endpoint_variable) {
    const S3Config c = config("s3://b", {{"AWS_ENDPOINT_URL", "http://general:1"},
                                         {"AWS_ENDPOINT_URL_S3", "https://s3-only:2"}});
    EXPECT_EQ(c.endpoint, "https://s3-only:2");
    EXPECT_EQ(config("s3://b", {{"AWS_ENDPOINT_URL_S3", ""}, {"AWS_ENDPOINT_URL", "http://g:1"}})
                  .endpoint,
              "http://g:1");
}

TEST(S3Addressing, path_style_can_be_forced_either_way) {
    const S3Config on = config("s3://b", {{"PGMIG_S3_PATH_STYLE", "1"}});
    EXPECT_EQ(s3_address(on, "k", {}).url, "https://s3.eu-west-1.amazonaws.com/b/k");
    const S3Config off = config("s3://b", {{"AWS_ENDPOINT_URL", "https://minio.example:9000"},
                                           {"PGMIG_S3_PATH_STYLE", "0"}});
    const S3Address a = s3_address(off, "k", {});
    EXPECT_EQ(a.url, "https://b.minio.example:9000/k");
    EXPECT_EQ(a.host, "b.minio.example:9000");
    EXPECT_NE(refusal("s3://b", {{"PGMIG_S3_PATH_STYLE", "yes"}}).find("PGMIG_S3_PATH_STYLE"),
              std::string::npos);
}

TEST(S3Addressing, a_bucket_with_dots_uses_path_style_so_tls_still_matches) {
    EXPECT_TRUE(config("s3://backups.example.com").path_style);
    EXPECT_FALSE(config("s3://backups.example.com", {{"PGMIG_S3_PATH_STYLE", "0"}}).path_style);
}

TEST(S3Addressing, china_regions_use_their_own_domain) {
    EXPECT_EQ(config("s3://b", {}, "cn-north-1").endpoint,
              "https://s3.cn-north-1.amazonaws.com.cn");
}

TEST(S3Addressing, encodes_keys_once_and_keeps_their_slashes) {
    const S3Config c = config("s3://b/my prefix", {{"AWS_ENDPOINT_URL", "http://h:1"}});
    const S3Address a = s3_address(c, bucket_key(c, "a b/c+d&e=f/ü~.-_"), {});
    EXPECT_EQ(a.url, "http://h:1/b/my%20prefix/a%20b/c%2Bd%26e%3Df/%C3%BC~.-_");
    EXPECT_EQ(a.path, "/b/my prefix/a b/c+d&e=f/ü~.-_");  // signed decoded, encoded by the signer
    EXPECT_EQ(s3_address(c, "a%2F", {}).url, "http://h:1/b/a%252F");
}

TEST(S3Addressing, keeps_an_endpoint_base_path) {
    const S3Config c = config("s3://b", {{"AWS_ENDPOINT_URL", "http://h:1/storage/"}});
    EXPECT_EQ(s3_address(c, "k", {}).url, "http://h:1/storage/b/k");
    EXPECT_EQ(s3_address(c, "k", {}).path, "/storage/b/k");
}

TEST(S3Addressing, refuses_an_endpoint_that_is_not_http) {
    EXPECT_NE(refusal("s3://b", {{"AWS_ENDPOINT_URL", "127.0.0.1:9000"}}).find("http://"),
              std::string::npos);
    EXPECT_NE(refusal("s3://b", {{"AWS_ENDPOINT_URL", "http://"}}).find("no host"),
              std::string::npos);
}

TEST(S3Query, a_subresource_without_value_is_sent_as_name_equals) {
    const S3Config c = config("s3://b", {{"AWS_ENDPOINT_URL", "http://h:1"}});
    EXPECT_EQ(s3_address(c, "k", {{"uploads", ""}}).url, "http://h:1/b/k?uploads=");
    EXPECT_EQ(s3_address(c, "", {{"delete", ""}}).url, "http://h:1/b?delete=");
}

TEST(S3Query, parameters_are_sent_sorted_as_they_are_signed) {
    const S3Config c = config("s3://b", {{"AWS_ENDPOINT_URL", "http://h:1"}});
    EXPECT_EQ(s3_address(c, "k", {{"uploadId", "x"}, {"partNumber", "1"}}).url,
              "http://h:1/b/k?partNumber=1&uploadId=x");
    EXPECT_EQ(s3_address(c, "",
                         {{"prefix", "p/a b"},
                          {"list-type", "2"},
                          {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="}})
                  .url,
              "http://h:1/b?continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D"
              "&list-type=2&prefix=p%2Fa%20b");
}

TEST(S3Config, reads_part_size_listing_page_and_new_object_headers) {
    const S3Config c = config("s3://b", {{"PGMIG_S3_PART_SIZE", "16777216"},
                                         {"PGMIG_S3_LIST_PAGE", "100"},
                                         {"PGMIG_S3_STORAGE_CLASS", "STANDARD_IA"},
                                         {"PGMIG_S3_SSE", "aws:kms"},
                                         {"PGMIG_S3_SSE_KMS_KEY_ID", "alias/backups"},
                                         {"PGMIG_S3_MAX_RETRIES", "2"}});
    EXPECT_EQ(c.part_size, 16u * kMiB);
    EXPECT_EQ(c.list_page_size, 100);
    EXPECT_EQ(c.storage_class, "STANDARD_IA");
    EXPECT_EQ(c.sse, "aws:kms");
    EXPECT_EQ(c.sse_kms_key_id, "alias/backups");
    EXPECT_EQ(c.retry.max_retries, 2);
}

TEST(S3Config, defaults_to_8_mib_parts_and_the_servers_page_size) {
    const S3Config c = config("s3://b", {}, "");
    EXPECT_EQ(c.part_size, 8u * kMiB);
    EXPECT_EQ(c.list_page_size, 0);
    EXPECT_EQ(c.region, "us-east-1");
    EXPECT_EQ(c.retry.max_retries, 5);
}

TEST(S3Config, refuses_part_sizes_outside_1_mib_to_5_gib) {
    EXPECT_EQ(config("s3://b", {{"PGMIG_S3_PART_SIZE", "1048576"}}).part_size, kMiB);
    for (const char *bad : {"1048575", "0", "-5", "8M", "5368709121", "99999999999999999999"})
        EXPECT_NE(refusal("s3://b", {{"PGMIG_S3_PART_SIZE", bad}}).find("PGMIG_S3_PART_SIZE"),
                  std::string::npos)
            << bad;
}

TEST(S3Config, refuses_unknown_encryption_and_a_kms_key_without_kms) {
    EXPECT_EQ(config("s3://b", {{"PGMIG_S3_SSE", "AES256"}}).sse, "AES256");
    EXPECT_NE(refusal("s3://b", {{"PGMIG_S3_SSE", "aes256"}}).find("AES256 or aws:kms"),
              std::string::npos);
    EXPECT_NE(refusal("s3://b", {{"PGMIG_S3_SSE_KMS_KEY_ID", "k"}}).find("PGMIG_S3_SSE=aws:kms"),
              std::string::npos);
    EXPECT_NE(refusal("s3://b", {{"PGMIG_S3_LIST_PAGE", "1001"}}).find("PGMIG_S3_LIST_PAGE"),
              std::string::npos);
}

TEST(S3PartSize, grows_every_thousand_parts_so_any_object_fits_in_10000_parts) {
    EXPECT_EQ(part_size_for(8 * kMiB, 1), 8 * kMiB);
    EXPECT_EQ(part_size_for(8 * kMiB, 1000), 8 * kMiB);
    EXPECT_EQ(part_size_for(8 * kMiB, 1001), 16 * kMiB);
    EXPECT_EQ(part_size_for(8 * kMiB, 2001), 32 * kMiB);
    EXPECT_EQ(part_size_for(8 * kMiB, 10000), 4096 * kMiB);
    uint64_t total = 0;
    for (int n = 1; n <= kMaxParts; ++n) total += part_size_for(8 * kMiB, n);
    EXPECT_GT(total, uint64_t{5} << 40);  // more than S3's 5 TiB object limit
    EXPECT_EQ(part_size_for(kMaxPartSize, 9999), kMaxPartSize);
}
