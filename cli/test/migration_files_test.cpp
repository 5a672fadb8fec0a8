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

// Hostile files: what a migrations folder from an untrusted branch can hold.
namespace {

using pgmig::migrations::kMaxScriptBytes;
using pgmig::migrations::read_file;
using pgmig::migrations::script_bytes_problem;

std::string problem_text(const pgmig::migrations::MigrationFolder &folder) {
    std::string out;
    for (const auto &p : folder.problems) out += p.file + ": " + p.problem + "\n";
    return out;
}

std::string read_error(const fs::path &path) {
    try {
        read_file(path);
    } catch (const std::runtime_error &e) {
        return e.what();
    }
    return "";
}

bool has_raw_control_character(const std::string &text) {
    for (unsigned char c : text)
        if ((c < 0x20 && c != '\n') || c == 0x7F) return true;
    return false;
}

}  // namespace

TEST(ScriptBytes, a_nul_byte_is_refused_with_its_line_and_byte_offset) {
    const std::string sql("CREATE TABLE t (a int);\nSELECT 1;\0SELECT 2;\n", 44);
    auto problem = script_bytes_problem(sql);
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("NUL byte at line 2, byte offset 33"), std::string::npos) << *problem;
}

TEST(ScriptBytes, bytes_that_are_not_utf8_are_refused_with_line_offset_and_byte) {
    auto problem = script_bytes_problem("SELECT 1;\r\nSELECT 'caf\xe9';\n");
    ASSERT_TRUE(problem);
    EXPECT_NE(problem->find("not valid UTF-8 at line 2, byte offset 22 (byte 0xe9)"),
              std::string::npos)
        << *problem;
    EXPECT_NE(problem->find("must be UTF-8"), std::string::npos);
}

TEST(ScriptBytes, overlong_forms_surrogates_and_truncated_sequences_are_not_utf8) {
    EXPECT_TRUE(script_bytes_problem("SELECT '\xc0\xaf';"));          // overlong "/"
    EXPECT_TRUE(script_bytes_problem("SELECT '\xed\xa0\x80';"));      // U+D800
    EXPECT_TRUE(script_bytes_problem("SELECT '\xf4\x90\x80\x80';"));  // above U+10FFFF
    EXPECT_TRUE(script_bytes_problem("SELECT '\xe2\x82"));            // cut short
    EXPECT_TRUE(script_bytes_problem("\x80"));                        // a stray continuation
}

TEST(ScriptBytes, utf8_text_crlf_an_empty_script_and_no_final_newline_are_fine) {
    EXPECT_FALSE(script_bytes_problem(""));
    EXPECT_FALSE(script_bytes_problem("SELECT 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98';"));
    EXPECT_FALSE(script_bytes_problem("\xEF\xBB\xBFSELECT 1;\r\nSELECT 2;"));
}

TEST(LineOfCharacter, counts_characters_not_bytes_and_every_kind_of_line_end) {
    using pgmig::migrations::line_of_character;
    EXPECT_EQ(line_of_character("SELECT 1;", 1), 1);
    EXPECT_EQ(line_of_character("\xc3\xa9\xc3\xa9\nCOMMIT;", 4), 2);
    EXPECT_EQ(line_of_character("a;\r\nb;\rCOMMIT;", 8), 3);
}

TEST_F(MigrationFolderTest, a_file_with_a_nul_byte_is_a_problem_naming_file_and_offset) {
    write("1_nul.up.sql", std::string("SELECT 1;\0SELECT 2;\n", 20));
    auto folder = read_folder(dir_);
    EXPECT_TRUE(folder.migrations.empty());
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_EQ(folder.problems[0].file, "1_nul.up.sql");
    EXPECT_NE(folder.problems[0].problem.find("byte offset 9"), std::string::npos);
}

TEST_F(MigrationFolderTest, a_down_file_that_is_not_utf8_is_a_problem_naming_file_and_line) {
    write("1_a.up.sql");
    write("1_a.down.sql", "-- r\xe9tablir\nDROP TABLE a;\n");
    auto folder = read_folder(dir_);
    EXPECT_TRUE(folder.migrations.empty());
    ASSERT_EQ(folder.problems.size(), 1u) << problem_text(folder);
    EXPECT_EQ(folder.problems[0].file, "1_a.down.sql");
    EXPECT_NE(folder.problems[0].problem.find("line 1, byte offset 4"), std::string::npos);
}

TEST_F(MigrationFolderTest, reads_each_script_once_without_its_byte_order_mark) {
    write("1_a.up.sql", "\xEF\xBB\xBFSELECT 1;\r\nSELECT 2;");
    write("1_a.down.sql", "");
    write("1_a.verify.sql", "SELECT true");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.migrations.size(), 1u) << problem_text(folder);
    EXPECT_EQ(folder.migrations[0].up_sql, "SELECT 1;\r\nSELECT 2;");
    EXPECT_EQ(folder.migrations[0].down_sql, std::optional<std::string>(""));
    EXPECT_EQ(folder.migrations[0].verify_sql, std::optional<std::string>("SELECT true"));
    write("2_b.up.sql");
    EXPECT_FALSE(read_folder(dir_).migrations[1].down_sql.has_value());
}

TEST_F(MigrationFolderTest, a_file_over_the_size_limit_is_refused_before_it_is_read) {
    write("1_big.up.sql", "");
    fs::resize_file(dir_ / "1_big.up.sql", kMaxScriptBytes + 1);  // sparse: NUL bytes
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.problems.size(), 1u);
    // Read, the NUL bytes would be the complaint: the size is checked first.
    EXPECT_NE(folder.problems[0].problem.find("is 67108865 bytes, over the limit of 67108864"),
              std::string::npos)
        << folder.problems[0].problem;
    write("2_fits.up.sql", "");
    fs::resize_file(dir_ / "2_fits.up.sql", kMaxScriptBytes);
    EXPECT_EQ(read_error(dir_ / "2_fits.up.sql").find("over the limit"), std::string::npos);
}

TEST_F(MigrationFolderTest, a_symlink_to_a_file_outside_the_folder_is_refused_unread) {
    const fs::path secret = dir_.parent_path() / (dir_.filename().string() + "_secret");
    std::ofstream(secret) << "root:Sup3rSecret\n";
    fs::create_symlink(secret, dir_ / "1_leak.up.sql");
    fs::create_directories(dir_ / "sub");
    fs::create_symlink("../" + dir_.filename().string() + "_secret", dir_ / "sub" / "x.sql");
    fs::create_symlink("sub/x.sql", dir_ / "2_chain.up.sql");  // inside, then out
    auto folder = read_folder(dir_);
    fs::remove(secret);
    EXPECT_TRUE(folder.migrations.empty());
    ASSERT_EQ(folder.problems.size(), 2u) << problem_text(folder);
    EXPECT_EQ(folder.problems[0].file, "1_leak.up.sql");
    EXPECT_NE(folder.problems[0].problem.find("symbolic link to a file outside the folder"),
              std::string::npos);
    EXPECT_EQ(folder.problems[1].file, "2_chain.up.sql");
    EXPECT_EQ(problem_text(folder).find("Sup3rSecret"), std::string::npos);
    EXPECT_EQ(problem_text(folder).find("_secret"), std::string::npos);  // nor the target
}

TEST_F(MigrationFolderTest,
       a_symlink_to_a_file_inside_the_folder_is_read_and_a_broken_one_refused) {
    write("1_a.up.sql", "SELECT 1;");
    fs::create_directories(dir_ / "shared");
    std::ofstream(dir_ / "shared" / "drop.sql") << "SELECT 2;";
    fs::create_symlink("shared/drop.sql", dir_ / "1_a.down.sql");
    fs::create_symlink("nowhere.sql", dir_ / "2_b.up.sql");
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.migrations.size(), 1u) << problem_text(folder);
    EXPECT_EQ(folder.migrations[0].down_sql, std::optional<std::string>("SELECT 2;"));
    ASSERT_EQ(folder.problems.size(), 1u);
    EXPECT_NE(folder.problems[0].problem.find("target does not exist"), std::string::npos);
}

TEST_F(MigrationFolderTest, a_file_name_with_a_terminal_escape_is_refused_and_shown_escaped) {
    write("1_a\x1b[31mred.up.sql");
    write("x\x1b]0;pwned\x07.sql");
    write("2_caf\xe9.up.sql");
    write("3_rtl\xe2\x80\xae.up.sql");  // U+202E RIGHT-TO-LEFT OVERRIDE
    write("4_ignored\x1b.txt");         // not .sql: ignored, never printed
    write("5_caf\xc3\xa9.up.sql");      // UTF-8: fine
    auto folder = read_folder(dir_);
    ASSERT_EQ(folder.migrations.size(), 1u) << problem_text(folder);
    EXPECT_EQ(folder.migrations[0].name, "caf\xc3\xa9");
    const std::string text = problem_text(folder);
    EXPECT_FALSE(has_raw_control_character(text)) << text;
    EXPECT_NE(text.find("1_a\\x1b[31mred.up.sql: the file name contains the control character "
                        "\\x1b"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("x\\x1b]0;pwned\\x07.sql"), std::string::npos) << text;
    EXPECT_NE(text.find("2_caf\\xe9.up.sql: the file name is not valid UTF-8"), std::string::npos)
        << text;
    EXPECT_NE(text.find("3_rtl\\u202e.up.sql"), std::string::npos) << text;
    EXPECT_EQ(text.find("ignored"), std::string::npos);
}

TEST(MigrationFileName, refuses_control_characters_anywhere_in_the_name) {
    std::string why;
    EXPECT_FALSE(parse_file_name("1_a\nb.up.sql", &why));
    EXPECT_EQ(why, "the file name contains the control character \\x0a; rename the file");
    EXPECT_FALSE(parse_file_name("1\x7f_a.up.sql", &why));
    EXPECT_FALSE(
        parse_file_name("1_a\xc2\x9b"
                        "31m.up.sql",
                        &why));  // C1 CSI
}

TEST(ReadFile, names_the_file_escaped_and_strips_a_byte_order_mark) {
    const fs::path dir = fs::temp_directory_path() / ("pgmig_read_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const fs::path bad = dir / "seed\x1b[2J.sql";
    std::ofstream(bad) << std::string("a\0b", 3);
    const std::string error = read_error(bad);
    EXPECT_NE(error.find("seed\\x1b[2J.sql: contains a NUL byte at line 1, byte offset 1"),
              std::string::npos)
        << error;
    std::ofstream(dir / "bom.sql") << "\xEF\xBB\xBF";
    EXPECT_EQ(read_file(dir / "bom.sql"), "");
    EXPECT_NE(read_error(dir).find("is a directory"), std::string::npos);
    EXPECT_NE(read_error(dir / "missing.sql").find("cannot be read"), std::string::npos);
    fs::remove_all(dir);
}
