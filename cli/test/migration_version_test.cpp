// Migration versions are digits only and ordered by their numeric value, so timestamps
// from `pgmig new` and 0001-style numbers from other tools sort as people expect.
#include <gtest/gtest.h>

#include <string>

#include "migration_version.hpp"

namespace {

TEST(VersionProblem, accepts_plain_zero_padded_and_timestamp_versions) {
    for (const char *version : {"1", "0001", "20261122013500", "0"})
        EXPECT_EQ(pgm::version_problem(version), std::nullopt) << "version \"" << version << "\"";
}

TEST(VersionProblem, accepts_a_version_of_exactly_the_maximum_length) {
    EXPECT_EQ(pgm::version_problem(std::string(pgm::kMaxVersionLength, '9')), std::nullopt);
}

TEST(VersionProblem, rejects_anything_but_digits) {
    for (const char *version : {"", "1a", "-1", "1.2", " 1", "1 ", "+1", "v1", "1_2"})
        EXPECT_NE(pgm::version_problem(version), std::nullopt) << "version \"" << version << "\"";
}

TEST(VersionProblem, explains_an_empty_version) {
    const auto problem = pgm::version_problem("");
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("empty"), std::string::npos) << *problem;
}

TEST(VersionProblem, names_the_offending_character) {
    const auto problem = pgm::version_problem("1a");
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find("\"a\""), std::string::npos) << *problem;
}

TEST(VersionProblem, rejects_a_version_longer_than_the_limit_and_says_what_the_limit_is) {
    const std::string too_long(pgm::kMaxVersionLength + 1, '1');
    ASSERT_EQ(too_long.size(), 33u);
    const auto problem = pgm::version_problem(too_long);
    ASSERT_TRUE(problem.has_value());
    EXPECT_NE(problem->find(std::to_string(pgm::kMaxVersionLength)), std::string::npos) << *problem;
}

TEST(CompareVersions, ignores_leading_zeros) {
    EXPECT_EQ(pgm::compare_versions("001", "1"), 0);
    EXPECT_EQ(pgm::compare_versions("0", "000"), 0);
}

TEST(CompareVersions, orders_by_numeric_value_not_by_text) {
    EXPECT_LT(pgm::compare_versions("9", "10"), 0);
    EXPECT_GT(pgm::compare_versions("10", "9"), 0);
    EXPECT_LT(pgm::compare_versions("0009", "10"), 0);
}

TEST(CompareVersions, orders_timestamps_chronologically) {
    EXPECT_GT(pgm::compare_versions("20260101000000", "20251231235959"), 0);
    EXPECT_LT(pgm::compare_versions("20251231235959", "20260101000000"), 0);
}

TEST(CompareVersions, returns_minus_one_zero_or_one) {
    EXPECT_EQ(pgm::compare_versions("1", "2"), -1);
    EXPECT_EQ(pgm::compare_versions("2", "2"), 0);
    EXPECT_EQ(pgm::compare_versions("3", "2"), 1);
    EXPECT_EQ(pgm::compare_versions("100", "2"), 1);
}

}  // namespace
