#include "migrations/new_migration.hpp"

#include <gtest/gtest.h>

using namespace pgmig::migrations;

namespace {

LayoutScript up(const std::string &version, const std::string &shown = "",
                const std::string &file = "x.up.sql") {
    LayoutScript s;
    s.version = version;
    s.shown_version = shown.empty() ? version : shown;
    s.kind = "up";
    s.path = file;
    return s;
}

constexpr std::time_t kNow = 1796000000;  // 2026-11-30 00:53:20 UTC

TEST(NewMigration, EmptyFolderGetsUtcTimestamp) {
    const auto plan = plan_new_migration(Layout::pgmig, {}, "add_users", false, kNow);
    EXPECT_EQ(plan.scheme, "timestamp");
    EXPECT_EQ(plan.version, "20261130005320");
    ASSERT_EQ(plan.files.size(), 2u);
    EXPECT_EQ(plan.files[0].path, "20261130005320_add_users.up.sql");
    EXPECT_EQ(plan.files[1].path, "20261130005320_add_users.down.sql");
}

TEST(NewMigration, SequentialKeepsPaddingAndCountsNumerically) {
    EXPECT_EQ(plan_new_migration(Layout::pgmig, {up("0001"), up("0009")}, "a", false, kNow).version,
              "0010");
    EXPECT_EQ(plan_new_migration(Layout::pgmig, {up("1"), up("99")}, "a", false, kNow).version,
              "100");
    EXPECT_EQ(plan_new_migration(Layout::pgmig, {up("000999")}, "a", false, kNow).version,
              "001000");
}

TEST(NewMigration, UnixSecondsFolder) {
    const auto plan =
        plan_new_migration(Layout::golang_migrate, {up("1700000000")}, "a", false, kNow);
    EXPECT_EQ(plan.scheme, "unix");
    EXPECT_EQ(plan.version, "1796000000");
}

TEST(NewMigration, NeverBeforeTheNewest) {
    EXPECT_EQ(plan_new_migration(Layout::pgmig, {up("29991231235959")}, "a", false, kNow).version,
              "29991231235960");
}

TEST(NewMigration, FlywayCountsTheFirstPart) {
    // V1, V1.1, V2 (pgmig's mapped versions): the next is V3.
    std::string why;
    std::vector<LayoutScript> s = {up(*flyway_version("1", &why), "1"),
                                   up(*flyway_version("1.1", &why), "1.1"),
                                   up(*flyway_version("2", &why), "2")};
    const auto plan = plan_new_migration(Layout::flyway, s, "add_x", false, kNow);
    EXPECT_EQ(plan.version, "3");
    ASSERT_EQ(plan.files.size(), 1u);  // no U files in the folder: no undo file
    EXPECT_EQ(plan.files[0].path, "V3__add_x.sql");
}

TEST(NewMigration, LayoutShapes) {
    auto dbmate = plan_new_migration(Layout::dbmate, {}, "a", false, kNow);
    ASSERT_EQ(dbmate.files.size(), 1u);
    EXPECT_NE(dbmate.files[0].text.find("-- migrate:up\n"), std::string::npos);
    EXPECT_NE(dbmate.files[0].text.find("-- migrate:down\n"), std::string::npos);
    auto diesel = plan_new_migration(Layout::diesel, {}, "a", false, kNow);
    ASSERT_EQ(diesel.files.size(), 2u);
    EXPECT_EQ(diesel.files[0].path, std::filesystem::path("2026-11-30-005320_a") / "up.sql");
    auto sqlx_simple = plan_new_migration(
        Layout::sqlx, {up("20240101000000", "", "20240101000000_x.sql")}, "a", false, kNow);
    ASSERT_EQ(sqlx_simple.files.size(), 1u);
    EXPECT_EQ(sqlx_simple.files[0].path, "20261130005320_a.sql");
    auto pop = plan_new_migration(Layout::pop,
                                  {up("20240101000000", "", "20240101000000_x.postgres.up.sql")},
                                  "a", false, kNow);
    EXPECT_EQ(pop.files[0].path, "20261130005320_a.postgres.up.sql");
}

TEST(NewMigration, VerifyOnlyInPgmigsLayout) {
    EXPECT_EQ(plan_new_migration(Layout::pgmig, {}, "a", true, kNow).files.size(), 3u);
    EXPECT_THROW(plan_new_migration(Layout::dbmate, {}, "a", true, kNow), std::invalid_argument);
}

}  // namespace
