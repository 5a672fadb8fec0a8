// Progress lines a user reads while long work runs: bar, counts, rate and ETA.
#include <gtest/gtest.h>

#include <cmath>

#include "ui/progress.hpp"

using namespace pgmig::ui;

TEST(ProgressBarText, fills_cells_in_proportion_and_clamps) {
    EXPECT_EQ(render_bar(0, 10), "[----------]");
    EXPECT_EQ(render_bar(0.5, 10), "[#####-----]");
    EXPECT_EQ(render_bar(0.99, 10), "[#########-]");
    EXPECT_EQ(render_bar(1, 4), "[####]");
    EXPECT_EQ(render_bar(7.5, 4), "[####]");
    EXPECT_EQ(render_bar(-1, 4), "[----]");
    EXPECT_EQ(render_bar(std::nan(""), 4), "[----]");
}

TEST(ProgressNumbers, group_thousands_for_reading) {
    EXPECT_EQ(group_thousands(0), "0");
    EXPECT_EQ(group_thousands(999), "999");
    EXPECT_EQ(group_thousands(1000), "1,000");
    EXPECT_EQ(group_thousands(1234567), "1,234,567");
    EXPECT_EQ(group_thousands(100000), "100,000");
}

TEST(ProgressNumbers, sizes_use_binary_units) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(12ull * 1024 * 1024), "12.0 MiB");
    EXPECT_EQ(format_bytes(3ull * 1024 * 1024 * 1024 + 256ull * 1024 * 1024), "3.25 GiB");
}

TEST(ProgressNumbers, durations_read_as_minutes_and_hours) {
    EXPECT_EQ(format_seconds(0.4), "0s");
    EXPECT_EQ(format_seconds(45), "45s");
    EXPECT_EQ(format_seconds(185), "3m05s");
    EXPECT_EQ(format_seconds(7260), "2h01m");
    EXPECT_EQ(format_seconds(-3), "0s");
}

TEST(ProgressLine, shows_bar_counts_rate_and_eta_when_the_total_is_known) {
    EXPECT_EQ(progress_line("generating t", 40000, 100000, "rows", false, 0.5),
              "generating t [#########---------------]  40.0%  40,000/100,000 rows  80,000 "
              "rows/s  ETA 1s");
}

TEST(ProgressLine, shows_count_and_rate_without_a_total) {
    EXPECT_EQ(progress_line("backing up", 3 * 1024 * 1024, 0, "", true, 2),
              "backing up  3.0 MiB  1.5 MiB/s");
}

TEST(ProgressLine, has_no_rate_before_anything_is_done) {
    EXPECT_EQ(progress_line("up", 0, 10, "migrations", false, 3),
              "up [------------------------]   0.0%  0/10 migrations");
}
