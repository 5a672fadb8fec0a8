// pgmig repair: the ways out of a registry that no longer matches the folder. Forgets the
// registered migrations that never applied and whose file is gone (migrate_forget), and, only
// for the versions named with --accept-checksum, records an applied migration's edited file
// (migrate_accept_checksum). Each repair is logged in pg_migrate.repair_log with the reason.
#include "checksum.hpp"
#include "commands/command.hpp"
#include "commands/deploy_lock.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migrations/migration_files.hpp"
#include "migrations/registration.hpp"
#include "ui/output.hpp"

#include <iostream>
#include <map>
#include <memory>

namespace pgmig::commands {

namespace {

struct RepairOptions {
    bool dry_run = false;
    std::vector<std::string> accept;
    std::string reason;
};

struct Repair {
    std::string version, name, action, message;
};

int run_repair(const RepairOptions &opts, const GlobalOptions &global) {
    if (!opts.dry_run && opts.reason.empty())
        throw UsageError(
            "pgmig repair needs --reason TEXT (why; it is logged with each repair), "
            "or --dry-run to see what it would do");
    const auto folder = migrations::read_folder(global.dir, global.format);
    if (!folder.problems.empty()) {
        // A file with a problem is not "gone": forgetting its migration would be wrong.
        std::string list;
        for (const auto &p : folder.problems) list += "\n  " + p.file + ": " + p.problem;
        throw std::runtime_error(
            "the migrations folder has files pgmig cannot use; fix them "
            "first (nothing was repaired):" +
            list);
    }
    std::map<std::string, const migrations::MigrationFile *> files;
    for (const auto &m : folder.migrations) files[m.version] = &m;
    std::vector<std::string> accept;
    for (const auto &given : opts.accept) {
        std::string version = given;
        for (const auto &m : folder.migrations)
            if (m.shown_version == given) version = m.version;
        if (!files.count(version))
            throw UsageError("--accept-checksum " + given +
                             ": no file of that version in the migrations folder");
        accept.push_back(version);
    }
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    std::unique_ptr<DeployLock> lock;  // no deploy may run while the registry is repaired
    if (!opts.dry_run) lock = std::make_unique<DeployLock>(conn, 60);
    std::vector<Repair> done;
    auto registered = conn.query(
        "SELECT version, name, state, coalesce(applied_checksum, '') FROM "
        "pg_migrate.migration ORDER BY version_order");
    std::map<std::string, std::vector<std::string>> by_version;
    for (const auto &row : registered.rows) {
        const std::string version = row[0].value_or("");
        by_version[version] = {row[1].value_or(""), row[2].value_or(""), row[3].value_or("")};
        const std::string &state = by_version[version][1];
        if (files.count(version) || (state != "pending" && state != "failed")) continue;
        if (opts.dry_run) {
            done.push_back(
                {version, row[1].value_or(""), "would_forget", state + ", and its file is gone"});
            continue;
        }
        conn.query("SELECT @extschema@.migrate_forget($1, $2)", {version, opts.reason});
        done.push_back({version, row[1].value_or(""), "forgotten", state + ", file gone"});
    }
    for (const auto &version : accept) {
        const auto *file = files[version];
        auto it = by_version.find(version);
        if (it == by_version.end() || it->second[1] != "applied")
            throw UsageError("--accept-checksum " + file->shown_version + ": migration " +
                             file->shown_version + " is " +
                             (it == by_version.end() ? "not registered" : it->second[1]) +
                             ", not applied; pgmig up registers the file as it is");
        const bool same = pgm::script_checksum(file->up_sql) == it->second[2];
        if (same) {
            done.push_back({version, file->name, "unchanged", "the file matches what applied"});
            continue;
        }
        if (opts.dry_run) {
            done.push_back({version, file->name, "would_accept",
                            "the file changed since it applied; nothing would run"});
            continue;
        }
        conn.query("SELECT @extschema@.migrate_accept_checksum($1, $2, $3)",
                   {version, file->up_sql, opts.reason});
        done.push_back({version, file->name, "accepted", "the file's text recorded; nothing ran"});
    }
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &r : done)
            out.push_back({{"version", r.version},
                           {"name", r.name},
                           {"action", r.action},
                           {"message", r.message}});
        ui::print_json(std::cout, out);
    } else if (done.empty()) {
        std::cout << "nothing to repair\n";
    } else {
        ui::Table table{{"version", "name", "action", "message"}, {}};
        for (const auto &r : done) table.rows.push_back({r.version, r.name, r.action, r.message});
        ui::print_table(std::cout, table);
        if (!opts.dry_run) std::cout << "logged in pg_migrate.repair_log\n";
    }
    return 0;
}

}  // namespace

void setup_repair(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<RepairOptions>();
    auto *cmd = app.add_subcommand(
        "repair", "Forget never-applied migrations whose file is gone; accept an edited file");
    cmd->add_flag("--dry-run", opts->dry_run, "Show what would be repaired; change nothing");
    cmd->add_option("--accept-checksum", opts->accept,
                    "Record the edited file of this applied migration as what applied "
                    "(repeatable); nothing runs")
        ->type_name("VERSION");
    cmd->add_option("--reason", opts->reason, "Why: logged with every repair (required)")
        ->type_name("TEXT");
    cmd->footer(
        "A failed or pending migration whose file was deleted blocks later deploys; an\n"
        "applied file edited after the fact (a comment, formatting) makes up refuse. repair\n"
        "forgets the first kind always, and accepts the second only for the versions you\n"
        "name. Each repair is logged (who, when, why) in pg_migrate.repair_log; privileges:\n"
        "SELECT migrate_grant('role', 'repair').\n\nExamples:\n"
        "  pgmig repair --dry-run\n"
        "  pgmig repair --reason 'file removed after the failed deploy'\n"
        "  pgmig repair --accept-checksum 20261122090000 --reason 'comment fixed'");
    cmd->callback(
        [opts, &global, &run] { run = [opts, &global] { return run_repair(*opts, global); }; });
}

}  // namespace pgmig::commands
