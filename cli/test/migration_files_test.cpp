#include "migrations/migration_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using pgmig::migrations::parse_file_name;
using pgmig::migrations::read_folder;

namespace {

class MigrationFolderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("pgmig_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    void write(const std::string &name, const std::string &text = "SELECT 1;\n") {
        std::ofstream(dir_ / name) << text;
    }
    fs::path dir_;
};

}  // namespace

TEST(MigrationFileName, splits_version_name_and_kind) {
    std::string why;
    auto p = parse_file_name("20261122093000_add_user_roles.up.sql", &why);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->version, "20261122093000");
    EXPECT_EQ(p->name, "add_user_roles");
    EXPECT_EQ(p->kind, "up");
    EXPECT_EQ(parse_file_name("0001_init.down.sql", &why)->kind, "down");
    EXPECT_EQ(parse_file_name("0001_init.verify.sql", &why)->kind, "verify");
}

TEST(MigrationFileName, rejects_names_that_are_not_migrations_and_says_why) {
    std::string why;
    EXPECT_FALSE(parse_file_name("init.up.sql", &why));
    EXPECT_NE(why.find("<version>_<name>"), std::string::npos);
    EXPECT_FALSE(parse_file_name("v1_init.up.sql", &why));
    EXPECT_NE(why.find("digits"), std::string::npos);
    EXPECT_FALSE(parse_file_name("1_init.sql", &why));
    EXPECT_FALSE(parse_file_name("1_.up.sql", &why));
}

TEST_F(MigrationFolderTest, groups_files_by_version_in_numeric_order) {
    write("10_ten.up.sql");
    write("9_nine.up.sql");
    write("9_nine.down.sql");
    write("README.md");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.migrations.size(), 2u);
    EXPECT_EQ(folder.migrations[0].version, "9");
    EXPECT_FALSE(folder.migrations[0].down.empty());
    EXPECT_TRUE(folder.migrations[0].verify.empty());
    EXPECT_EQ(folder.migrations[1].version, "10");
    EXPECT_TRUE(folder.problems.empty());
}

TEST_F(MigrationFolderTest, reports_a_version_used_by_two_names) {
    write("1_a.up.sql");
    write("1_b.up.sql");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_NE(folder.problems[0].problem.find("already used"), std::string::npos);
}

TEST_F(MigrationFolderTest, reports_leading_zero_spellings_of_one_version) {
    write("1_a.up.sql");
    write("001_a.up.sql");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_NE(folder.problems[0].problem.find("same number"), std::string::npos);
    EXPECT_EQ(folder.migrations.size(), 1u);
}

TEST_F(MigrationFolderTest, reports_a_down_file_without_an_up_file) {
    write("5_orphan.down.sql");
    auto folder = read_folder(dir_);
    EXPECT_TRUE(folder.migrations.empty());
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_NE(folder.problems[0].problem.find("no .up.sql"), std::string::npos);
}

TEST_F(MigrationFolderTest, reports_bad_sql_file_names_and_ignores_other_files) {
    write("notes.txt");
    write("cleanup.sql");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_EQ(folder.problems[0].file, "cleanup.sql");
}

TEST(MigrationFolder, a_missing_folder_says_how_to_create_it) {
    try {
        read_folder("/nonexistent/migrations");
        FAIL() << "expected an error";
    } catch (const std::runtime_error &e) {
        EXPECT_NE(std::string(e.what()).find("pgmig init"), std::string::npos);
    }
}

TEST(MigrationName, accepts_lower_case_digits_and_underscores_only) {
    EXPECT_FALSE(pgmig::migrations::name_problem("add_user_roles_2"));
    EXPECT_TRUE(pgmig::migrations::name_problem(""));
    EXPECT_TRUE(pgmig::migrations::name_problem("Add"));
    EXPECT_TRUE(pgmig::migrations::name_problem("a-b"));
    EXPECT_TRUE(pgmig::migrations::name_problem(std::string(101, 'a')));
}
