#include "usage_message.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

// The message pgmig prints for parsing `args` with a small app shaped like pgmig's.
std::string message_for(std::vector<std::string> args) {
    CLI::App app{"", "pgmig"};
    std::string db;
    app.add_option("--db", db);
    auto *up = app.add_subcommand("up");
    std::string to;
    int steps = 0, rows = 0, wait = 0;
    auto *to_opt = up->add_option("--to", to);
    auto *steps_opt = up->add_option("--steps", steps)->type_name("INT");
    to_opt->excludes(steps_opt);
    up->add_option("--rows", rows)->type_name("INT")->check(CLI::PositiveNumber);
    up->add_option("--lock-wait", wait)->type_name("SECONDS")->check(CLI::Range(1, 86400));
    std::string from;
    up->add_option("--from", from)->check(CLI::IsMember({"dbmate", "flyway"}));
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    try {
        app.parse(args);
    } catch (const CLI::ParseError &e) {
        return pgmig::usage_message(e, app);
    }
    return "(parsed)";
}

TEST(UsageMessage, UnknownOptionsAndArguments) {
    EXPECT_EQ(message_for({"-d", "lay", "up"}),
              "unknown option -d; and unexpected argument lay (pgmig --help lists the commands "
              "and global options, pgmig COMMAND --help a command's)");
}

TEST(UsageMessage, NotANumber) {
    EXPECT_EQ(message_for({"up", "--steps", "abc"}), "--steps must be a whole number, got \"abc\"");
}

TEST(UsageMessage, RangesInPlainNumbers) {
    EXPECT_EQ(message_for({"up", "--rows", "-1"}), "--rows must be greater than 0, got -1");
    EXPECT_EQ(message_for({"up", "--lock-wait", "0"}),
              "--lock-wait must be between 1 and 86400, got 0");
    // The range check runs before the conversion: a word is "not a number", not out of range.
    EXPECT_EQ(message_for({"up", "--rows", "abc"}), "--rows must be a whole number, got \"abc\"");
}

TEST(UsageMessage, OneOf) {
    EXPECT_EQ(message_for({"up", "--from", "liquibase"}),
              "--from must be one of dbmate, flyway, got \"liquibase\"");
}

TEST(UsageMessage, Excludes) {
    EXPECT_EQ(message_for({"up", "--to", "1", "--steps", "2"}),
              "--to and --steps cannot be used together");
}

TEST(UsageMessage, MissingValue) {
    EXPECT_EQ(message_for({"up", "--steps"}), "--steps needs a value (a whole number)");
}

}  // namespace
