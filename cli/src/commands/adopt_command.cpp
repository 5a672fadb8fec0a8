// pgmig adopt --from dbmate|golang-migrate|flyway|sqlx|diesel|pop: switch to pgmig without
// re-running what
// another tool already applied. The other tool's history table says which versions are in
// the database; those migration files are registered and marked applied (baselined).
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migration_version.hpp"
#include "migrations/folder_layout.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>
#include <set>

namespace pgmig::commands {

namespace {

struct AdoptOptions {
    std::string from;
    std::string table;
    bool dry_run = false;
};

std::string default_history_table(const std::string &tool) {
    if (tool == "flyway") return "flyway_schema_history";
    if (tool == "sqlx") return "_sqlx_migrations";
    if (tool == "diesel") return "__diesel_schema_migrations";
    if (tool == "pop") return "schema_migration";
    return "schema_migrations";  // dbmate, golang-migrate
}

// The versions the other tool applied, with leading zeros stripped for numeric comparison.
std::vector<std::string> applied_elsewhere(db::Connection &conn, const AdoptOptions &o,
                                           bool flyway_layout, std::string *problem) {
    const std::string table = !o.table.empty() ? o.table : default_history_table(o.from);
    // The other tool found its table with the user's search_path, and so does this.
    const auto oid = conn.resolve_relation(table);
    if (!oid)
        throw std::runtime_error("history table " + table + " of " + o.from +
                                 " does not exist in this database (use --table to name it)");
    // The table name only ever reaches SQL through format('%s', regclass).
    auto sql = [&](const std::string &select) {
        return conn.query("SELECT pg_catalog.format($1, $2::oid::regclass)", {select, *oid})
            .rows.at(0)
            .at(0)
            .value();
    };
    std::vector<std::string> versions;
    if (o.from == "dbmate") {
        for (const auto &r : conn.query(sql("SELECT version::text FROM %s")).rows)
            versions.push_back(r[0].value_or(""));
    } else if (o.from == "golang-migrate") {
        auto r = conn.query(sql("SELECT version::text, dirty FROM %s"));
        if (r.rows.empty()) return versions;
        if (r.rows[0][1].value_or("f") == "t")
            throw RefusedBySafetyCheck("golang-migrate's history is dirty at version " +
                                       r.rows[0][0].value_or("") +
                                       ": a migration failed half way; fix the database first");
        // golang-migrate keeps only the current version: everything up to it is applied.
        versions.push_back("<=" + r.rows[0][0].value_or(""));
    } else if (o.from == "sqlx") {
        // sqlx records a failed migration with success = false and refuses to go on until
        // the row is removed by hand: the database is half migrated there.
        for (const auto &r :
             conn.query(sql("SELECT version::text, success FROM %s ORDER BY version")).rows) {
            if (r[1].value_or("f") != "t")
                throw RefusedBySafetyCheck(
                    "sqlx's history says migration " + r[0].value_or("") +
                    " is partially applied (success = false): fix the database and remove "
                    "that row first, as sqlx itself requires");
            versions.push_back(r[0].value_or(""));
        }
    } else if (o.from == "diesel" || o.from == "pop") {
        // Diesel keeps a folder's timestamp without its dashes (2024-01-01-120000 is
        // 20240101120000), as the folder layout here spells it; pop the file's number.
        for (const auto &r : conn.query(sql("SELECT version::text FROM %s")).rows) {
            std::string v = r[0].value_or("");
            if (pgm::version_problem(v)) {
                *problem += (problem->empty() ? "" : ", ") + v;
                continue;
            }
            versions.push_back(v);
        }
    } else {
        for (const auto &r :
             conn.query(sql("SELECT version FROM %s WHERE success AND version IS NOT NULL")).rows) {
            std::string v = r[0].value_or("");
            // Flyway's own files (V1.1__...): its versions map as the folder's do.
            std::string why;
            if (flyway_layout)
                if (auto mapped = migrations::flyway_version(v, &why)) v = *mapped;
            if (pgm::version_problem(v)) {
                *problem += (problem->empty() ? "" : ", ") + v;
                continue;
            }
            versions.push_back(v);
        }
    }
    return versions;
}

}  // namespace

void setup_adopt(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<AdoptOptions>();
    auto *cmd = app.add_subcommand(
        "adopt",
        "Baseline pgmig's history from dbmate, golang-migrate, Flyway, sqlx, Diesel or pop");
    cmd->add_option("--from", opts->from, "The tool the database was migrated with")
        ->required()
        ->check(CLI::IsMember({"dbmate", "golang-migrate", "flyway", "sqlx", "diesel", "pop"}));
    cmd->add_option("--table", opts->table,
                    "Its history table (default: schema_migrations for dbmate and "
                    "golang-migrate, flyway_schema_history, _sqlx_migrations, "
                    "__diesel_schema_migrations, schema_migration for pop)");
    cmd->add_flag("--dry-run", opts->dry_run, "Show what would be baselined; change nothing");
    cmd->footer(
        "Point --dir at the tool's own migrations folder, as it is (pgmig reads its\n"
        "layout), or at the files converted to <version>_<name>.up.sql with the same\n"
        "versions. Files whose version the other tool applied are registered and marked\n"
        "applied without running; the others stay pending for pgmig up.\n\n"
        "Examples:\n  pgmig adopt --from dbmate --dry-run\n  pgmig adopt --from flyway\n"
        "  pgmig --dir migrations adopt --from diesel");
    cmd->callback([opts, &global, &run] {
        run = [opts, &global] {
            const auto folder = migrations::read_folder(global.dir, global.format);
            db::Connection conn(global.connection.db);
            migrations::require_extension(conn);
            std::string unsupported;
            const auto history =
                applied_elsewhere(conn, *opts, folder.layout == "flyway", &unsupported);
            auto applied_there = [&](const std::string &version) {
                for (const auto &h : history) {
                    if (h.rfind("<=", 0) == 0) {
                        if (pgm::compare_versions(version, h.substr(2)) <= 0) return true;
                    } else if (pgm::compare_versions(version, h) == 0) {
                        return true;
                    }
                }
                return false;
            };
            std::unique_ptr<DeployLock> lock;
            if (!opts->dry_run) {
                lock = std::make_unique<DeployLock>(conn, 600);
                migrations::register_files(conn, folder);
            }
            std::vector<std::vector<std::string>> rows;
            std::set<std::string> with_files;
            for (const auto &m : folder.migrations) {
                with_files.insert(m.version);
                if (!applied_there(m.version)) {
                    rows.push_back({m.version, m.name, "pending", "not applied by " + opts->from});
                    continue;
                }
                if (opts->dry_run) {
                    rows.push_back(
                        {m.version, m.name, "would_baseline", "applied by " + opts->from});
                    continue;
                }
                auto r = conn.query("SELECT @extschema@.migrate_baseline($1, $2)",
                                    {m.version, "baselined: applied by " + opts->from});
                rows.push_back({m.version, m.name, r.rows.at(0).at(0).value_or(""),
                                "applied by " + opts->from});
            }
            for (const auto &h : history)
                if (h.rfind("<=", 0) != 0) {
                    bool found = false;
                    for (const auto &v : with_files)
                        found = found || pgm::compare_versions(v, h) == 0;
                    if (!found)
                        rows.push_back(
                            {h, "", "missing-file", "applied by " + opts->from + ", no file here"});
                }
            if (!opts->dry_run) {
                try {
                    conn.query("SELECT pg_migrate.record_schema_fingerprint(NULL)");
                } catch (const db::DbError &) {
                    // Without the grants for it, drift has no baseline until the next migration.
                }
            }
            if (global.json) {
                nlohmann::json out = nlohmann::json::array();
                for (const auto &r : rows)
                    out.push_back(
                        {{"version", r[0]}, {"name", r[1]}, {"status", r[2]}, {"note", r[3]}});
                ui::print_json(std::cout, out);
            } else {
                ui::Table table{{"version", "name", "status", "note"}, {}};
                for (const auto &r : rows) table.rows.push_back(r);
                ui::print_table(std::cout, table);
            }
            if (!unsupported.empty())
                std::cerr << "note: " << opts->from
                          << " versions that are not digits only were left out: " << unsupported
                          << "\n";
            return 0;
        };
    });
}

}  // namespace pgmig::commands
