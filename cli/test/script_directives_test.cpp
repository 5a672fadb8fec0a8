// Directives are `-- pgmig:<name> [argument]` comments at the top of a migration file,
// before its first statement; anything later is just a comment.
#include <gtest/gtest.h>

#include "script_directives.hpp"

namespace {

TEST(ParseDirectives, finds_no_transaction) {
    const auto directives =
        pgm::parse_directives("-- pgmig:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);\n");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].name, "no-transaction");
    EXPECT_EQ(directives[0].argument, "");
    EXPECT_EQ(directives[0].line, 1);
}

TEST(ParseDirectives, finds_snapshot_with_its_table_argument) {
    const auto directives = pgm::parse_directives(
        "-- pgmig:snapshot user_profiles\nALTER TABLE user_profiles ADD COLUMN x int;\n");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].name, "snapshot");
    EXPECT_EQ(directives[0].argument, "user_profiles");
}

TEST(ParseDirectives, trims_the_argument) {
    const auto directives = pgm::parse_directives("--   pgmig:snapshot \t user_profiles  \t\n");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].name, "snapshot");
    EXPECT_EQ(directives[0].argument, "user_profiles");
}

TEST(ParseDirectives, finds_several_directives_among_ordinary_comments_and_blank_lines) {
    const auto directives = pgm::parse_directives(
        "-- Give every user a role history.\n"
        "\n"
        "-- pgmig:snapshot user_profiles\n"
        "-- Ticket: ROLE-42\n"
        "-- pgmig:no-transaction\n"
        "ALTER TABLE user_profiles ADD COLUMN previous_role text;\n");
    ASSERT_EQ(directives.size(), 2u);
    EXPECT_EQ(directives[0].name, "snapshot");
    EXPECT_EQ(directives[0].argument, "user_profiles");
    EXPECT_EQ(directives[0].line, 3);
    EXPECT_EQ(directives[1].name, "no-transaction");
    EXPECT_EQ(directives[1].line, 5);
}

TEST(ParseDirectives, ignores_ordinary_comments) {
    EXPECT_TRUE(pgm::parse_directives("-- add a column\n-- pgmig is great\n-- no-transaction\n"
                                      "SELECT 1;\n")
                    .empty());
}

TEST(ParseDirectives, stops_at_the_first_statement) {
    const auto directives = pgm::parse_directives(
        "-- pgmig:snapshot user_profiles\n"
        "CREATE TABLE t (id int);\n"
        "-- pgmig:no-transaction\n");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].name, "snapshot");
    EXPECT_FALSE(pgm::has_directive(directives, "no-transaction"));
}

TEST(ParseDirectives, finds_nothing_after_a_statement_on_the_first_line) {
    EXPECT_TRUE(
        pgm::parse_directives("CREATE TABLE t (id int);\n-- pgmig:no-transaction\n").empty());
}

TEST(ParseDirectives, reads_a_file_saved_with_a_byte_order_mark) {
    const auto directives =
        pgm::parse_directives("\xEF\xBB\xBF-- pgmig:no-transaction\nSELECT 1;\n");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].name, "no-transaction");
    EXPECT_EQ(directives[0].line, 1);
}

TEST(ParseDirectives, reads_a_file_with_crlf_line_endings) {
    const auto directives = pgm::parse_directives(
        "-- intro\r\n\r\n-- pgmig:snapshot user_profiles\r\n-- pgmig:no-transaction\r\n"
        "SELECT 1;\r\n");
    ASSERT_EQ(directives.size(), 2u);
    EXPECT_EQ(directives[0].name, "snapshot");
    EXPECT_EQ(directives[0].argument, "user_profiles");
    EXPECT_EQ(directives[0].line, 3);
    EXPECT_EQ(directives[1].name, "no-transaction");
    EXPECT_EQ(directives[1].argument, "");
    EXPECT_EQ(directives[1].line, 4);
}

TEST(ParseDirectives, reads_a_script_without_a_trailing_newline) {
    const auto directives = pgm::parse_directives("\n\n-- pgmig:no-transaction");
    ASSERT_EQ(directives.size(), 1u);
    EXPECT_EQ(directives[0].line, 3);
}

TEST(ParseDirectives, finds_nothing_in_an_empty_script) {
    EXPECT_TRUE(pgm::parse_directives("").empty());
}

TEST(HasDirective, tells_whether_a_directive_is_present) {
    const auto directives =
        pgm::parse_directives("-- pgmig:snapshot user_profiles\n-- pgmig:no-transaction\n");
    EXPECT_TRUE(pgm::has_directive(directives, "no-transaction"));
    EXPECT_TRUE(pgm::has_directive(directives, "snapshot"));
    EXPECT_FALSE(pgm::has_directive(directives, "user_profiles"));
    EXPECT_FALSE(pgm::has_directive(directives, "no-transactio"));
    EXPECT_FALSE(pgm::has_directive({}, "no-transaction"));
}

}  // namespace
