#include "exit_code.hpp"
#include "project_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <unistd.h>

namespace {

std::filesystem::path write_toml(const std::string &text) {
    static int n = 0;
    auto path =
        std::filesystem::temp_directory_path() /
        ("pgmig_config_test_" + std::to_string(getpid()) + "_" + std::to_string(++n) + ".toml");
    std::ofstream(path) << text;
    return path;
}

struct App {
    CLI::App app{"", "pgmig"};
    std::string db, dir = "migrations";
    int up_wait = 600, backup_wait = 60;
    bool dry_run = false;
    std::vector<std::string> snapshots;
    std::string from_list, from_verify;
    App() {
        app.add_option("--db", db);
        app.add_option("--dir", dir);
        auto *up = app.add_subcommand("up");
        up->add_option("--lock-wait", up_wait)->type_name("INT")->check(CLI::Range(1, 86400));
        up->add_flag("--dry-run", dry_run);
        auto *run_all = app.add_subcommand("run-all");
        run_all->add_option("--snapshot", snapshots);
        auto *backup = app.add_subcommand("backup");
        backup->add_subcommand("list")->add_option("--from", from_list);
        auto *verify = backup->add_subcommand("verify");
        verify->add_option("--from", from_verify);
        verify->add_option("--lock-wait", backup_wait);
    }
};

TEST(ProjectConfig, FileSettingsBecomeDefaultsAFlagOverrides) {
    App a;
    const auto path = write_toml(
        "dir = \"db/migrations\"\n[up]\nlock-wait = 30\ndry-run = true\n"
        "[run-all]\nsnapshot = [\"orders\", \"users\"]\n[backup]\nfrom = \"s3://b/p\"\n");
    pgmig::apply_settings(a.app, pgmig::read_config_file(path));
    EXPECT_EQ(a.dir, "db/migrations");
    EXPECT_EQ(a.up_wait, 30);
    EXPECT_TRUE(a.dry_run);
    EXPECT_EQ(a.snapshots, (std::vector<std::string>{"orders", "users"}));
    EXPECT_EQ(a.from_list, "s3://b/p");  // [backup] reaches each subcommand with --from
    EXPECT_EQ(a.from_verify, "s3://b/p");
    a.app.parse(std::vector<std::string>{"5", "--lock-wait", "up"});  // CLI11 takes them reversed
    EXPECT_EQ(a.up_wait, 5);
    std::filesystem::remove(path);
}

TEST(ProjectConfig, EnvironmentAfterTheFileWins) {
    App a;
    const auto path = write_toml("db = \"dbname=file\"\n[up]\nlock-wait = 30\n");
    std::map<std::string, std::string> env = {
        {"DATABASE_URL", "dbname=url"}, {"PGMIG_DB", "dbname=pgmig"}, {"PGMIG_LOCK_WAIT", "7"}};
    auto settings = pgmig::read_config_file(path);
    const auto from_env = pgmig::read_environment(
        pgmig::long_option_names(a.app), [&](const std::string &n) -> std::optional<std::string> {
            auto it = env.find(n);
            return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
        });
    settings.insert(settings.end(), from_env.begin(), from_env.end());
    pgmig::apply_settings(a.app, settings);
    EXPECT_EQ(a.db, "dbname=pgmig");
    EXPECT_EQ(a.up_wait, 7);
    EXPECT_EQ(a.backup_wait, 7);  // a variable applies to every command with the option
    std::filesystem::remove(path);
}

std::string error_of(const std::string &toml) {
    App a;
    const auto path = write_toml(toml);
    std::string out = "(none)";
    try {
        pgmig::apply_settings(a.app, pgmig::read_config_file(path));
    } catch (const pgmig::UsageError &e) {
        out = e.what();
        out = out.substr(out.find(':') + 1);  // without the temporary file's name
    }
    std::filesystem::remove(path);
    return out;
}

TEST(ProjectConfig, ErrorsNameTheLineNeverTheValue) {
    EXPECT_EQ(error_of("[up]\nlok-wait = 1\n"), "2: pgmig up has no option --lok-wait");
    EXPECT_EQ(error_of("[upp]\nx = 1\n"), "2: there is no command upp (pgmig --help lists them)");
    EXPECT_EQ(error_of("[up]\nlock-wait = \"s3cret\"\n"),
              "2: not a valid value for --lock-wait (INT in [1 - 86400] expected)");
    EXPECT_EQ(error_of("[up]\nlock-wait = 0\n"),
              "2: not a valid value for --lock-wait (INT in [1 - 86400] expected)");
    EXPECT_EQ(error_of("dir = 1.5\n"),
              "1: a value is a string, an integer, a boolean or an array of strings");
    EXPECT_EQ(error_of("version = true\n"), "1: --version cannot be set there");
    EXPECT_NE(error_of("dir = [1\n").find("not valid TOML"), std::string::npos);
}

TEST(ProjectConfig, ConfigFlagIsFoundBeforeParsing) {
    const char *argv1[] = {"pgmig", "--config", "x.toml", "up"};
    EXPECT_EQ(pgmig::config_flag(4, const_cast<char **>(argv1)), "x.toml");
    const char *argv2[] = {"pgmig", "up", "--config=y.toml"};
    EXPECT_EQ(pgmig::config_flag(3, const_cast<char **>(argv2)), "y.toml");
    const char *argv3[] = {"pgmig", "seed", "--", "--config", "z"};
    EXPECT_EQ(pgmig::config_flag(5, const_cast<char **>(argv3)), std::nullopt);
}

}  // namespace
