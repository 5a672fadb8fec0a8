// A restore puts sequences back with ALTER SEQUENCE ... RESTART (transactional: a failed
// restore leaves them as they were) so that the next nextval returns what it would have
// returned in the source.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "backup/pg_restore.hpp"

using pgmig::backup::sequence_restart;

TEST(SequenceRestart, a_used_sequence_restarts_after_its_last_value) {
    const auto r = sequence_restart(100, true, 1, 1, 1000);
    EXPECT_TRUE(r.in_range);
    EXPECT_EQ(r.restart_with, "101");
    EXPECT_EQ(sequence_restart(100, true, 10, 1, 1000).restart_with, "110");
    EXPECT_EQ(sequence_restart(-5, true, -1, -1000, -1).restart_with, "-6");
}

TEST(SequenceRestart, a_never_used_sequence_restarts_at_its_value) {
    EXPECT_EQ(sequence_restart(1, false, 1, 1, 1000).restart_with, "1");
}

TEST(SequenceRestart, an_exhausted_sequence_is_left_to_setval) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const auto r = sequence_restart(kMax, true, 1, 1, kMax);
    EXPECT_TRUE(r.in_range);
    EXPECT_EQ(r.restart_with, "");
    EXPECT_EQ(sequence_restart(1000, true, 1, 1, 1000).restart_with, "");
}

TEST(SequenceRestart, a_value_outside_the_target_range_cannot_be_restored) {
    EXPECT_FALSE(sequence_restart(5000, true, 1, 1, 1000).in_range);
    EXPECT_FALSE(sequence_restart(0, false, 1, 1, 1000).in_range);
}
