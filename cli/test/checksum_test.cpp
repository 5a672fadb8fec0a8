// A migration file is "the same" on every checkout: the checksum ignores a byte order mark
// and Windows line endings, and changes when the SQL changes.
#include <gtest/gtest.h>

#include "checksum.hpp"

namespace {

// printf 'SELECT 1;\n' | sha256sum
constexpr const char *kSelectOneSha256 =
    "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd";

TEST(NormalizeScript, strips_a_leading_utf8_byte_order_mark) {
    EXPECT_EQ(pgm::normalize_script("\xEF\xBB\xBFSELECT 1;\n"), "SELECT 1;\n");
}

TEST(NormalizeScript, keeps_a_byte_order_mark_that_is_not_at_the_start) {
    EXPECT_EQ(pgm::normalize_script("SELECT '\xEF\xBB\xBF';\n"), "SELECT '\xEF\xBB\xBF';\n");
}

TEST(NormalizeScript, turns_crlf_into_lf) {
    EXPECT_EQ(pgm::normalize_script("SELECT 1;\r\nSELECT 2;\r\n"), "SELECT 1;\nSELECT 2;\n");
}

TEST(NormalizeScript, turns_a_lone_cr_into_lf) {
    EXPECT_EQ(pgm::normalize_script("SELECT 1;\rSELECT 2;\r"), "SELECT 1;\nSELECT 2;\n");
}

TEST(NormalizeScript, keeps_a_blank_line_written_as_cr_crlf) {
    EXPECT_EQ(pgm::normalize_script("a\r\r\nb"), "a\n\nb");
}

TEST(NormalizeScript, leaves_lf_only_text_unchanged) {
    const std::string text = "CREATE TABLE t (id int);\n\nINSERT INTO t VALUES (1);\n";
    EXPECT_EQ(pgm::normalize_script(text), text);
}

TEST(NormalizeScript, leaves_empty_text_empty) {
    EXPECT_EQ(pgm::normalize_script(""), "");
}

TEST(ScriptChecksum, is_the_sha256_of_the_script_text) {
    EXPECT_EQ(pgm::script_checksum("SELECT 1;\n"), kSelectOneSha256);
}

TEST(ScriptChecksum, is_the_same_for_a_crlf_checkout) {
    EXPECT_EQ(pgm::script_checksum("SELECT 1;\r\n"), kSelectOneSha256);
}

TEST(ScriptChecksum, is_the_same_for_a_file_saved_with_a_byte_order_mark) {
    EXPECT_EQ(pgm::script_checksum("\xEF\xBB\xBFSELECT 1;\n"), kSelectOneSha256);
    EXPECT_EQ(pgm::script_checksum("\xEF\xBB\xBFSELECT 1;\r\n"), kSelectOneSha256);
}

TEST(ScriptChecksum, changes_when_the_sql_changes) {
    EXPECT_NE(pgm::script_checksum("SELECT 2;\n"), kSelectOneSha256);
    EXPECT_NE(pgm::script_checksum("SELECT 1; \n"), kSelectOneSha256);
    EXPECT_NE(pgm::script_checksum("SELECT 1;"), kSelectOneSha256);
}

TEST(Sha256Hex, of_the_empty_string_is_the_well_known_digest) {
    EXPECT_EQ(pgm::sha256_hex(""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Hex, hashes_the_bytes_as_given_without_normalizing) {
    EXPECT_NE(pgm::sha256_hex("SELECT 1;\r\n"), kSelectOneSha256);
    EXPECT_EQ(pgm::sha256_hex("SELECT 1;\n"), kSelectOneSha256);
}

TEST(Sha256Hex, is_64_lower_case_hex_digits) {
    const std::string hex = pgm::sha256_hex("abc");
    ASSERT_EQ(hex.size(), 64u);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
