#include "migration_version.hpp"
#include "migrations/folder_layout.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace pgmig::migrations;

namespace {

std::string flyway(const std::string &v) {
    std::string why;
    auto out = flyway_version(v, &why);
    return out ? *out : "error: " + why;
}

TEST(FlywayVersion, OrdersAsFlywayDoes) {
    // Flyway compares part by part, numerically: 1 < 1.1 < 1.9 < 1.10 < 2 < 2.1 < 10 < 10.1
    const std::vector<std::string> order = {"1",   "1.1",   "1.9", "1.10", "2",
                                            "2_1", "2.1.1", "10",  "10.1", "20240101120000"};
    for (size_t i = 0; i + 1 < order.size(); ++i) {
        const std::string a = flyway(order[i]), b = flyway(order[i + 1]);
        ASSERT_EQ(pgm::version_problem(a), std::nullopt) << a;
        EXPECT_LT(pgm::compare_versions(a, b), 0) << order[i] << " before " << order[i + 1];
    }
    EXPECT_EQ(flyway("2_1"), flyway("2.1"));   // an underscore is a dot
    EXPECT_EQ(flyway("1.01"), flyway("1.1"));  // as numbers
    EXPECT_EQ(flyway("001"), flyway("1"));
    EXPECT_EQ(flyway("1"), "1000000000000000000");
    EXPECT_EQ(flyway("1.1"), "1000001000000000000");
}

TEST(FlywayVersion, RefusesWhatItCannotMap) {
    EXPECT_EQ(flyway("1..2").rfind("error: ", 0), 0u);
    EXPECT_EQ(flyway("1.").rfind("error: ", 0), 0u);
    EXPECT_EQ(flyway("1.2.3.4.5").rfind("error: ", 0), 0u);
    EXPECT_EQ(flyway("1.1234567").rfind("error: ", 0), 0u);
    EXPECT_EQ(flyway("123456789012345").rfind("error: ", 0), 0u);
    EXPECT_EQ(flyway("1a").rfind("error: ", 0), 0u);
    EXPECT_EQ(pgm::version_problem(flyway("12345678901234.999999.999999.999999")), std::nullopt);
}

TEST(DbmateSections, SplitsUpAndDown) {
    std::string why;
    auto s = dbmate_sections(
        "-- migrate:up\nCREATE TABLE t (i int);\n\n-- migrate:down\nDROP TABLE t;\n", &why);
    ASSERT_TRUE(s) << why;
    EXPECT_EQ(s->up, "CREATE TABLE t (i int);\n\n");
    EXPECT_EQ(s->down, "DROP TABLE t;\n");
    EXPECT_TRUE(s->has_down);
    EXPECT_FALSE(s->up_no_transaction);
}

TEST(DbmateSections, OptionsCrlfAndMissingParts) {
    std::string why;
    auto s = dbmate_sections(
        "-- a comment before\r\n-- migrate:up transaction:false\r\nCREATE INDEX CONCURRENTLY i ON "
        "t "
        "(i);\r\n-- migrate:down transaction:false\r\n",
        &why);
    ASSERT_TRUE(s) << why;
    EXPECT_EQ(s->up, "CREATE INDEX CONCURRENTLY i ON t (i);\r\n");
    EXPECT_EQ(s->down, "");
    EXPECT_TRUE(s->has_down && s->up_no_transaction && s->down_no_transaction);

    auto up_only = dbmate_sections("-- migrate:up\nSELECT 1", &why);
    ASSERT_TRUE(up_only);
    EXPECT_FALSE(up_only->has_down);
    EXPECT_EQ(up_only->up, "SELECT 1");

    EXPECT_FALSE(dbmate_sections("-- just a comment\n", &why));
    EXPECT_NE(why.find("no -- migrate:up"), std::string::npos);
    EXPECT_FALSE(dbmate_sections("CREATE TABLE t ();\n-- migrate:up\nSELECT 1;\n", &why));
    EXPECT_NE(why.find("SQL before"), std::string::npos);
    EXPECT_FALSE(dbmate_sections("-- migrate:down\nSELECT 1;\n-- migrate:up\nSELECT 2;\n", &why));
    auto spaced =
        dbmate_sections("\xEF\xBB\xBF--migrate:up\nSELECT 1;\n-- migrate:downtime\n", &why);
    ASSERT_TRUE(spaced) << why;
    EXPECT_FALSE(spaced->has_down);  // "migrate:downtime" is not the down marker
    EXPECT_EQ(spaced->up, "SELECT 1;\n-- migrate:downtime\n");
    EXPECT_FALSE(dbmate_sections("-- migrate:up\n-- migrate:up\n", &why));
}

TEST(Directive, AddedInFrontOnlyWithAMark) {
    EXPECT_EQ(with_no_transaction_directive("SELECT 1;", ""), "SELECT 1;");
    EXPECT_EQ(with_no_transaction_directive("SELECT 1;", "pop: .autocommit"),
              "-- pgmig:no-transaction (pop: .autocommit)\nSELECT 1;");
}

class LayoutTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("pgmig_layout_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string &name, const std::string &text) {
        fs::create_directories((dir_ / name).parent_path());
        std::ofstream(dir_ / name, std::ios::binary) << text;
    }
    fs::path dir_;
};

TEST_F(LayoutTest, FindsEachLayout) {
    write("20240101000000_a.sql", "-- migrate:up\nSELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::dbmate);
    fs::remove_all(dir_);
    write("20240101000000_a.sql", "SELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::sqlx);
    fs::remove_all(dir_);
    write("V1__a.sql", "SELECT 1;\n");
    write("R__b.sql", "SELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::flyway);
    fs::remove_all(dir_);
    write("2024-01-01-000000_a/up.sql", "SELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::diesel);
    fs::remove_all(dir_);
    write("1_a.up.sql", "SELECT 1;\n");
    write("2_b.postgres.up.sql", "SELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::pop);
    fs::remove_all(dir_);
    write("1_a.up.sql", "SELECT 1;\n");
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::pgmig);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    EXPECT_EQ(list_layout(dir_, std::nullopt).layout, Layout::pgmig);  // empty
}

TEST_F(LayoutTest, RefusesAMixedFolder) {
    write("V1__a.sql", "SELECT 1;\n");
    write("2_b.up.sql", "SELECT 1;\n");
    EXPECT_THROW(list_layout(dir_, std::nullopt), std::runtime_error);
    EXPECT_EQ(list_layout(dir_, Layout::flyway).problems.size(), 1u);
}

TEST_F(LayoutTest, PopPrefersThePostgresFileAndIgnoresOtherDialects) {
    write("1_a.up.sql", "SELECT 'generic';\n");
    write("1_a.postgres.up.sql", "SELECT 'postgres';\n");
    write("1_a.mysql.up.sql", "SELECT `mysql`;\n");
    write("2_b.autocommit.up.sql", "CREATE INDEX CONCURRENTLY i ON t (i);\n");
    auto l = list_layout(dir_, std::nullopt);
    ASSERT_EQ(l.scripts.size(), 2u);
    EXPECT_EQ(l.scripts[0].path.filename(), "1_a.postgres.up.sql");
    EXPECT_EQ(l.scripts[1].no_transaction_mark, "pop: .autocommit");
    EXPECT_EQ(l.ignored.size(), 2u);
}

TEST_F(LayoutTest, ReadFolderTakesDbmateSections) {
    write("1_a.sql", "-- migrate:up\nCREATE TABLE a ();\n-- migrate:down\nDROP TABLE a;\n");
    write("2_b.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (x);\n");
    auto f = read_folder(dir_);
    ASSERT_TRUE(f.problems.empty()) << f.problems[0].problem;
    ASSERT_EQ(f.migrations.size(), 2u);
    EXPECT_EQ(f.layout, "dbmate");
    EXPECT_EQ(f.migrations[0].up_sql, "CREATE TABLE a ();\n");
    EXPECT_EQ(f.migrations[0].down_sql.value_or("?"), "DROP TABLE a;\n");
    EXPECT_EQ(f.migrations[1].up_sql,
              "-- pgmig:no-transaction (dbmate: transaction:false)\nCREATE INDEX CONCURRENTLY i ON "
              "a (x);\n");
    EXPECT_FALSE(f.migrations[1].down_sql);  // no down section: no down script
}

}  // namespace
