// Backup and restore take their table locks in short attempts; when they give up, the message
// names who is in the way. The lock conflict table decides which sessions those are.
#include <gtest/gtest.h>

#include <stdexcept>

#include "backup/table_locks.hpp"

using namespace pgmig::backup;

TEST(LockConflicts, an_access_share_lock_waits_only_for_access_exclusive) {
    EXPECT_EQ(conflicting_lock_modes("ACCESS SHARE"),
              std::vector<std::string>({"AccessExclusiveLock"}));
}

TEST(LockConflicts, an_access_exclusive_lock_waits_for_every_mode) {
    EXPECT_EQ(conflicting_lock_modes("ACCESS EXCLUSIVE").size(), 8u);
}

TEST(LockConflicts, share_row_exclusive_follows_the_documented_table) {
    EXPECT_EQ(conflicting_lock_modes("SHARE ROW EXCLUSIVE"),
              std::vector<std::string>({"RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
                                        "ShareRowExclusiveLock", "ExclusiveLock",
                                        "AccessExclusiveLock"}));
    EXPECT_EQ(conflicting_lock_modes("SHARE"),
              std::vector<std::string>({"RowExclusiveLock", "ShareUpdateExclusiveLock",
                                        "ShareRowExclusiveLock", "ExclusiveLock",
                                        "AccessExclusiveLock"}));
}

TEST(LockConflicts, an_unknown_mode_is_refused_before_it_reaches_a_statement) {
    EXPECT_THROW(conflicting_lock_modes("ACCESS SHARE; DROP TABLE x"), std::invalid_argument);
}

TEST(LockTimeoutMessage, names_the_blocking_session_its_application_and_its_query) {
    const std::string text = lock_timeout_message(
        {{"16390", "public.orders"}}, "ACCESS EXCLUSIVE", 3000,
        {{"4242", "nightly-report", "app", "idle in transaction", "35", "AccessShareLock",
          "public.orders", "SELECT count(*)\nFROM orders"}});
    EXPECT_NE(text.find("could not lock public.orders (ACCESS EXCLUSIVE) within 3 s"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pid 4242 (application_name \"nightly-report\", user app, idle in "
                        "transaction, in its transaction for 35 s) holds AccessShareLock on "
                        "public.orders, last query: SELECT count(*) FROM orders"),
              std::string::npos)
        << text;
}

TEST(LockTimeoutMessage, cuts_long_queries_and_says_when_nobody_holds_the_lock_any_more) {
    const std::string text = lock_timeout_message(
        {{"1", "a"}}, "ACCESS SHARE", 60000,
        {{"7", "", "", "active", "", "AccessExclusiveLock", "a", std::string(500, 'x')}});
    EXPECT_NE(text.find(std::string(200, 'x') + "..."), std::string::npos);
    EXPECT_EQ(text.find(std::string(201, 'x')), std::string::npos);
    EXPECT_NE(text.find(", running: "), std::string::npos);
    EXPECT_NE(lock_timeout_message({{"1", "a"}}, "ACCESS SHARE", 500, {})
                  .find("no session holds a conflicting lock now"),
              std::string::npos);
}
