#include "migrations/outside_transaction.hpp"

#include <gtest/gtest.h>

using pgmig::migrations::concurrent_index_name;

TEST(ConcurrentIndexName, finds_the_name_of_a_concurrent_build) {
    EXPECT_EQ(concurrent_index_name("CREATE INDEX CONCURRENTLY users_email_idx ON users (email)"),
              "users_email_idx");
    EXPECT_EQ(concurrent_index_name("create unique index concurrently if not exists Ux on t (a)"),
              "ux");
    EXPECT_EQ(concurrent_index_name("CREATE INDEX CONCURRENTLY \"Odd \"\"Name\" ON t (a)"),
              "Odd \"Name");
}

TEST(ConcurrentIndexName, is_empty_for_unnamed_or_other_statements) {
    EXPECT_EQ(concurrent_index_name("CREATE INDEX CONCURRENTLY ON users (email)"), "");
    EXPECT_EQ(concurrent_index_name("CREATE INDEX users_email_idx ON users (email)"), "");
    EXPECT_EQ(concurrent_index_name("VACUUM users"), "");
}

TEST(ConcurrentIndex, finds_the_table_as_written) {
    auto i =
        pgmig::migrations::concurrent_index("CREATE INDEX CONCURRENTLY ix ON app.\"Users\" (a)");
    EXPECT_EQ(i.name, "ix");
    EXPECT_EQ(i.table, "app.\"Users\"");
    EXPECT_EQ(
        pgmig::migrations::concurrent_index("CREATE INDEX CONCURRENTLY ix ON ONLY t (a)").table,
        "t");
    EXPECT_EQ(pgmig::migrations::concurrent_index("VACUUM t").name, "");
}
