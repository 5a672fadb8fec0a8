// Which backups `pgmig backup prune` keeps.
#include <gtest/gtest.h>

#include "backup/backup_catalog.hpp"

using namespace pgmig::backup;

namespace {

BackupSummary good(const std::string &id, bool verified = false) {
    BackupSummary b;
    b.id = id;
    b.complete = true;
    b.authenticated = true;
    if (verified) b.verified_at = "2026-11-01T00:00:00Z";
    return b;
}

std::string actions(const std::vector<PruneDecision> &d) {
    std::string s;
    for (const auto &x : d) s += std::string(s.empty() ? "" : " ") + (x.keep ? "K" : "D");
    return s;
}

PruneOptions keep(int last, int days) {
    PruneOptions o;
    o.keep_last = last;
    o.keep_days = days;
    return o;
}

const std::string kNow = "20261122T120000Z";

}  // namespace

TEST(PruneDecision, keeps_the_newest_n_and_deletes_the_rest) {
    const std::vector<BackupSummary> b = {good("20261101T000000Z-000001"),
                                          good("20261102T000000Z-000002"),
                                          good("20261103T000000Z-000003")};
    EXPECT_EQ(actions(decide_prune(b, keep(2, 0), kNow)), "D K K");
}

TEST(PruneDecision, keeps_everything_younger_than_the_days) {
    const std::vector<BackupSummary> b = {good("20261101T000000Z-000001"),
                                          good("20261120T000000Z-000002"),
                                          good("20261121T000000Z-000003")};
    EXPECT_EQ(actions(decide_prune(b, keep(0, 7), kNow)), "D K K");
}

TEST(PruneDecision, never_deletes_the_newest_verified_backup) {
    const std::vector<BackupSummary> b = {good("20261101T000000Z-000001", true),
                                          good("20261102T000000Z-000002"),
                                          good("20261103T000000Z-000003")};
    const auto d = decide_prune(b, keep(1, 0), kNow);
    EXPECT_EQ(actions(d), "K D K");
    EXPECT_EQ(d[0].reason, "newest verified backup");
}

TEST(PruneDecision, deletes_old_incomplete_leftovers_but_not_a_backup_still_running) {
    BackupSummary old_leftover, running;
    old_leftover.id = "20261101T000000Z-00000a";
    running.id = "20261122T115000Z-00000b";
    const std::vector<BackupSummary> b = {old_leftover, good("20261110T000000Z-000002"), running};
    EXPECT_EQ(actions(decide_prune(b, keep(5, 0), kNow)), "D K K");
}

TEST(PruneDecision, keeps_what_it_cannot_authenticate) {
    BackupSummary foreign;
    foreign.id = "20261101T000000Z-00000c";
    foreign.complete = true;
    foreign.problem = "wrong key";
    const std::vector<BackupSummary> b = {foreign, good("20261110T000000Z-000002")};
    EXPECT_EQ(actions(decide_prune(b, keep(1, 0), kNow)), "K K");
}

TEST(PruneDecision, a_damaged_backup_is_kept_but_never_counts_as_the_good_one) {
    BackupSummary damaged = good("20261103T000000Z-000003", true);
    damaged.damage = "object pg/0001.obj is missing";
    const std::vector<BackupSummary> b = {good("20261101T000000Z-000001", true),
                                          good("20261102T000000Z-000002"), damaged};
    const auto d = decide_prune(b, keep(1, 0), kNow);
    // The newest verified good backup is the first one; the newest good one the second.
    EXPECT_EQ(actions(d), "K K K");
    EXPECT_EQ(d[0].reason, "newest verified backup");
    EXPECT_EQ(d[1].reason, "one of the newest 1");
    EXPECT_NE(d[2].reason.find("damaged"), std::string::npos);
}

TEST(BackupState, says_when_it_was_verified_and_that_damage_found_since_wins) {
    BackupSummary b = good("20261101T000000Z-000001", true);
    b.verified_at = "2026-11-22T04:07:56Z";
    EXPECT_EQ(state_text(b), "verified 2026-11-22 04:07Z");
    b.damage = "object pg/0001.obj is missing";
    EXPECT_EQ(state_text(b), "damaged (verified 2026-11-22 04:07Z, changed since)");
    EXPECT_EQ(state_text(good("20261101T000000Z-000001")), "not verified");
    BackupSummary incomplete;
    EXPECT_EQ(state_text(incomplete), "incomplete");
}
