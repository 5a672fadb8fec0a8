// pgmig snapshot create|list|verify|restore|drop|prune: the extension's table snapshots
// from the command line.
#include "commands/command.hpp"
#include "commands/report_query.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>
#include <memory>

namespace pgmig::commands {

namespace {

struct SnapshotOptions {
    std::string table;
    std::string label;
    int64_t id = 0;
    int keep_last = 0;
    std::string older_than;
};

int run_create(const SnapshotOptions &o, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    const auto start = std::chrono::steady_clock::now();
    // The table is named as the user typed it: it resolves with the user's search_path.
    const auto table = conn.resolve_relation(o.table);
    if (!table)
        throw UsageError("--table " + o.table + ": no such table on the search_path " +
                         conn.user_search_path());
    const std::string id =
        *conn.query("SELECT @extschema@.snapshot_create($1::oid::regclass, $2)::text",
                    {*table, o.label.empty() ? db::Value() : db::Value(o.label)})
             .rows.at(0)
             .at(0);
    auto r = conn.query(
        "SELECT s.id::text, s.row_count::text, s.snapshot_table FROM @extschema@.snapshot_list() s "
        "WHERE s.id = $1::bigint",
        {id});
    if (r.rows.empty()) throw std::runtime_error("snapshot " + id + " vanished after creation");
    const std::string ms = ui::elapsed_ms(start);
    if (global.json)
        ui::print_json(std::cout, {{"id", std::stoll(*r.rows[0][0])},
                                   {"rows", std::stoll(*r.rows[0][1])},
                                   {"snapshot_table", *r.rows[0][2]},
                                   {"duration_ms", std::stod(ms)}});
    else
        std::cout << "snapshot " << *r.rows[0][0] << " of " << o.table << ": " << *r.rows[0][1]
                  << " rows in " << *r.rows[0][2] << " (" << ms << " ms)\n";
    return 0;
}

int run_list(const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    auto r = conn.query(
        "SELECT id, source, label, row_count AS rows, pg_size_pretty(size_bytes) AS size, "
        "migration_version AS migration, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS "
        "created, CASE WHEN verify_ok IS NULL THEN 'not verified' WHEN verify_ok THEN 'pass' "
        "ELSE 'fail' END AS verified FROM @extschema@.snapshot_list()");
    if (r.rows.empty() && !global.json) {
        std::cout << "no snapshots\n";
        return 0;
    }
    print_result(global, r, 7);
    return 0;
}

int run_verify(const SnapshotOptions &o, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    auto r = conn.query(
        "SELECT snapshot_id AS id, CASE WHEN ok THEN 'pass' ELSE 'fail' END AS status, "
        "expected_rows, actual_rows, message FROM @extschema@.snapshot_verify($1::bigint)",
        {std::to_string(o.id)});
    print_result(global, r, 1);
    return r.rows.empty() || r.rows[0][1] != db::Value("pass") ? 1 : 0;
}

int run_restore(const SnapshotOptions &o, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    auto r =
        conn.query("SELECT @extschema@.snapshot_restore($1::bigint)::text", {std::to_string(o.id)});
    if (global.json)
        ui::print_json(std::cout, {{"id", o.id}, {"rows_restored", std::stoll(*r.rows[0][0])}});
    else
        std::cout << "snapshot " << o.id << " restored: " << *r.rows[0][0] << " rows\n";
    return 0;
}

int run_drop(const SnapshotOptions &o, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    conn.query("SELECT @extschema@.snapshot_drop($1::bigint)", {std::to_string(o.id)});
    if (global.json)
        ui::print_json(std::cout, {{"id", o.id}, {"dropped", true}});
    else
        std::cout << "snapshot " << o.id << " dropped\n";
    return 0;
}

int run_prune(const SnapshotOptions &o, const GlobalOptions &global) {
    if (o.keep_last <= 0 && o.older_than.empty())
        throw UsageError("snapshot prune needs --keep-last N or --older-than INTERVAL");
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    auto r = conn.query("SELECT @extschema@.snapshot_prune($1::int, $2::interval)::text",
                        {o.keep_last > 0 ? db::Value(std::to_string(o.keep_last)) : db::Value(),
                         o.older_than.empty() ? db::Value() : db::Value(o.older_than)});
    if (global.json)
        ui::print_json(std::cout, {{"dropped", std::stoll(*r.rows[0][0])}});
    else
        std::cout << "dropped " << *r.rows[0][0] << " snapshot(s)\n";
    return 0;
}

}  // namespace

void setup_snapshot(CLI::App &app, GlobalOptions &global, Run &run) {
    auto o = std::make_shared<SnapshotOptions>();
    auto *cmd = app.add_subcommand(
        "snapshot", "In-database table snapshots: create, list, verify, restore, drop, prune");
    cmd->require_subcommand(1);
    cmd->footer(
        "A snapshot is a checksummed copy of a table inside the database (schema\n"
        "pg_migrate_snapshots), taken before a risky change; see docs/snapshots.md.\n"
        "\n"
        "Examples:\n"
        "  pgmig snapshot create --table user_profiles --label before-role-change\n"
        "  pgmig snapshot list\n"
        "  pgmig snapshot verify 3\n"
        "  pgmig snapshot restore 3\n"
        "  pgmig snapshot prune --keep-last 5");
    auto *create = cmd->add_subcommand("create", "Snapshot a table; prints its id");
    create->add_option("--table", o->table, "Table (schema-qualified or on the search_path)")
        ->required()
        ->type_name("TABLE");
    create->add_option("--label", o->label, "A note kept with the snapshot")->type_name("TEXT");
    create->callback([o, &global, &run] { run = [o, &global] { return run_create(*o, global); }; });
    auto *list = cmd->add_subcommand("list", "List snapshots, oldest first");
    list->callback([&global, &run] { run = [&global] { return run_list(global); }; });
    auto *verify =
        cmd->add_subcommand("verify", "Recompute a snapshot's checksum (exit 1 if it differs)");
    verify->add_option("id", o->id, "Snapshot id")->required();
    verify->callback([o, &global, &run] { run = [o, &global] { return run_verify(*o, global); }; });
    auto *restore = cmd->add_subcommand(
        "restore", "Put the table's rows back as snapshotted (verified first, one transaction)");
    restore->add_option("id", o->id, "Snapshot id")->required();
    restore->callback(
        [o, &global, &run] { run = [o, &global] { return run_restore(*o, global); }; });
    auto *drop = cmd->add_subcommand("drop", "Drop a snapshot and its table");
    drop->add_option("id", o->id, "Snapshot id")->required();
    drop->callback([o, &global, &run] { run = [o, &global] { return run_drop(*o, global); }; });
    auto *prune = cmd->add_subcommand("prune", "Drop old snapshots");
    prune->add_option("--keep-last", o->keep_last, "Keep the newest N snapshots of each table")
        ->type_name("N");
    prune->add_option("--older-than", o->older_than, "Drop snapshots older than this ('7 days')")
        ->type_name("INTERVAL");
    prune->callback([o, &global, &run] { run = [o, &global] { return run_prune(*o, global); }; });
}

}  // namespace pgmig::commands
