// What `pgmig monitor` shows for a migrate_activity() report.
#include <gtest/gtest.h>

#include "ui/activity_view.hpp"

using pgmig::ui::activity_has_work;
using pgmig::ui::render_activity;

namespace {

nlohmann::json blocked_migration() {
    return nlohmann::json::parse(R"({
      "at": "2026-11-22T03:52:28Z",
      "server": {"connections": 3, "max_connections": 150, "long_transactions": 1, "waiting_locks": 1},
      "sessions": [{
        "pid": 29005, "user": "deploy", "application": "pgmig", "state": "active",
        "wait": "Lock:relation", "query_seconds": 75.2, "transaction_seconds": 80,
        "activity": "pg_migrate: migration 1 (alter_t1), up statement 2/2: alter table t1\n   add column x int",
        "waiting_for": [{"lock": "relation", "mode": "AccessExclusiveLock", "relation": "public.t1"}],
        "blocked_by": [{"pid": 29001, "user": "app", "state": "idle in transaction",
                        "transaction_seconds": 400, "query": "select * from t1"}]
      }],
      "backfills": []
    })");
}

}  // namespace

TEST(MonitorView, shows_the_statement_the_lock_awaited_and_who_blocks_it) {
    const std::string view = render_activity(blocked_migration());
    EXPECT_NE(view.find("pid 29005  deploy  pgmig  active 1m15s (transaction 1m20s)  waiting on "
                        "Lock:relation"),
              std::string::npos)
        << view;
    EXPECT_NE(view.find("pg_migrate: migration 1 (alter_t1), up statement 2/2: alter table t1 "
                        "add column x int\n"),
              std::string::npos)
        << view;
    EXPECT_NE(view.find("waits for AccessExclusiveLock on relation public.t1"), std::string::npos);
    EXPECT_NE(view.find("blocked by pid 29001 (app, idle in transaction, transaction 6m40s): "
                        "select * from t1"),
              std::string::npos)
        << view;
    EXPECT_NE(view.find("Server: connections 3/150, transactions open > 5 min 1, lock waits 1"),
              std::string::npos)
        << view;
    EXPECT_TRUE(activity_has_work(blocked_migration()));
}

TEST(MonitorView, draws_a_progress_bar_with_rate_and_eta_for_a_backfill) {
    auto report = nlohmann::json::parse(R"({
      "server": {"connections": 2, "max_connections": 100, "long_transactions": 0, "waiting_locks": 0},
      "sessions": [],
      "backfills": [{"id": 4, "table_name": "public.users", "rows_done": 120000,
                     "rows_estimated": 240000, "percent": 50.0, "rows_per_second": 45000.5,
                     "batches": 12, "retries": 2, "eta": "00:00:02.6"}]
    })");
    const std::string view = render_activity(report);
    EXPECT_NE(view.find("#4 public.users [############------------]  50.0%  120,000/240,000 rows  "
                        "45,000 rows/s  batches 12  lock retries 2  ETA 00:00:02.6"),
              std::string::npos)
        << view;
    EXPECT_TRUE(activity_has_work(report));
}

TEST(MonitorView, says_when_nothing_is_running) {
    auto report = nlohmann::json::parse(
        R"({"server": {"connections": 1, "max_connections": 100, "long_transactions": 0,
            "waiting_locks": 0}, "sessions": [], "backfills": []})");
    EXPECT_FALSE(activity_has_work(report));
    EXPECT_NE(render_activity(report).find("No migration or backfill is running."),
              std::string::npos);
}

TEST(MonitorView, survives_a_report_with_missing_parts) {
    EXPECT_FALSE(activity_has_work(nlohmann::json::object()));
    EXPECT_NE(render_activity(nlohmann::json::object()).find("No migration"), std::string::npos);
}
