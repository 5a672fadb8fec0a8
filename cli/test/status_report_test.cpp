#include "migrations/status_report.hpp"

#include <gtest/gtest.h>

using pgmig::migrations::compare;
using pgmig::migrations::DatabaseSide;
using pgmig::migrations::FileSide;

TEST(StatusReport, an_unregistered_file_is_pending) {
    auto rows = compare({{"1", "a", "c1"}}, {});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].state, "pending");
    EXPECT_FALSE(rows[0].registered);
    EXPECT_FALSE(rows[0].problem());
}

TEST(StatusReport, an_applied_file_that_changed_is_modified) {
    auto rows = compare({{"1", "a", "new"}}, {{"1", "a", "applied", "old"}});
    EXPECT_EQ(rows[0].state, "modified");
    EXPECT_TRUE(rows[0].problem());
    rows = compare({{"1", "a", "same"}}, {{"1", "a", "applied", "same"}});
    EXPECT_EQ(rows[0].state, "applied");
    EXPECT_FALSE(rows[0].problem());
}

TEST(StatusReport, an_applied_migration_without_its_file_is_missing_file) {
    auto rows = compare({}, {{"1", "a", "applied", "c"}});
    EXPECT_EQ(rows[0].state, "missing-file");
    EXPECT_TRUE(rows[0].problem());
}

TEST(StatusReport, a_pending_migration_older_than_an_applied_one_is_out_of_order) {
    auto rows = compare({{"1", "a", "c"}, {"2", "b", "c"}}, {{"2", "b", "applied", "c"}});
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].version, "1");
    EXPECT_TRUE(rows[0].out_of_order);
    EXPECT_TRUE(rows[0].problem());
    EXPECT_FALSE(rows[1].out_of_order);
}

TEST(StatusReport, versions_are_ordered_as_numbers) {
    auto rows = compare({{"10", "b", "c"}, {"9", "a", "c"}}, {});
    EXPECT_EQ(rows[0].version, "9");
    EXPECT_EQ(rows[1].version, "10");
}

TEST(StatusReport, failed_migrations_are_problems) {
    auto rows = compare({{"1", "a", "c"}}, {{"1", "a", "failed", ""}});
    EXPECT_EQ(rows[0].state, "failed");
    EXPECT_TRUE(rows[0].problem());
}
