// pgmig backup create|list|verify|restore|prune: encrypted, verifiable backups of PostgreSQL
// tables in a local folder or S3.
#include "backup/backup_catalog.hpp"
#include "backup/pg_restore.hpp"
#include "commands/command.hpp"
#include "exit_code.hpp"
#include "ui/output.hpp"
#include "ui/progress.hpp"

#include <iostream>
#include <memory>

namespace pgmig::commands {

namespace {

struct BackupOptions {
    std::string url;
    backup::KeySource keys;
    // create
    std::vector<std::string> pg_tables, pg_schemas;
    int jobs = 1;
    int level = 3;
    std::string label;
    // verify, restore
    std::string id;
    std::string target_db;
    bool dry_run = false;
    // prune
    int keep_last = 0;
    int keep_days = 0;
};

void add_key_options(CLI::App *cmd, BackupOptions &o) {
    cmd->add_option("--key-file", o.keys.key_file,
                    "File with the backup key: 32 raw bytes, 64 hex digits or base64 "
                    "(or PGMIG_BACKUP_KEY_FILE)")
        ->type_name("PATH");
    cmd->add_option("--passphrase-file", o.keys.passphrase_file,
                    "File with a passphrase, stretched with scrypt (or PGMIG_BACKUP_PASSPHRASE)")
        ->type_name("PATH");
}

nlohmann::json summary_json(const backup::BackupSummary &b) {
    nlohmann::json j = {
        {"id", b.id},
        {"complete", b.complete},
        {"authenticated", b.authenticated},
        {"stored_bytes", b.stored_bytes},
        {"verified_at", b.verified_at.empty() ? nlohmann::json() : nlohmann::json(b.verified_at)},
        {"problem", b.problem.empty() ? nlohmann::json() : nlohmann::json(b.problem)}};
    if (b.manifest) {
        const auto &m = *b.manifest;
        nlohmann::json tables = nlohmann::json::array();
        if (m.postgres)
            for (const auto &t : m.postgres->tables)
                tables.push_back({{"store", "postgres"},
                                  {"table", t.schema + "." + t.name},
                                  {"rows", t.rows},
                                  {"stored_bytes", t.object.stored_bytes}});
        j["created_at"] = m.created_at;
        j["label"] = m.label;
        j["rows"] = m.total_rows();
        j["tables"] = tables;
        j["schema_version"] = m.postgres && m.postgres->schema_version
                                  ? nlohmann::json(*m.postgres->schema_version)
                                  : nlohmann::json();
    }
    return j;
}

int run_create(const BackupOptions &o, const GlobalOptions &global) {
    if (o.jobs < 1 || o.jobs > 32) throw UsageError("-j must be between 1 and 32");
    if (o.level < 1 || o.level > 19) throw UsageError("--compress-level must be between 1 and 19");
    auto store = store::open_store(o.url);
    backup::CreateOptions opts;
    backup::PgBackupOptions pg;
    pg.conninfo = global.connection.db;
    pg.tables = o.pg_tables;
    pg.schemas = o.pg_schemas;
    pg.jobs = o.jobs;
    opts.postgres = pg;
    opts.label = o.label;
    opts.zstd_level = o.level;
    const auto start = std::chrono::steady_clock::now();
    ui::ProgressBar bar("backing up", 0, "", true);
    const auto m =
        backup::create_backup(opts, *store, o.keys, [&bar](uint64_t bytes) { bar.update(bytes); });
    bar.finish();
    const std::string ms = ui::elapsed_ms(start);
    if (global.json) {
        ui::print_json(std::cout, {{"id", m.backup_id},
                                   {"rows", m.total_rows()},
                                   {"stored_bytes", m.total_stored_bytes()},
                                   {"tables", m.postgres ? m.postgres->tables.size() : 0},
                                   {"duration_ms", std::stod(ms)}});
    } else {
        const size_t tables = m.postgres ? m.postgres->tables.size() : 0;
        std::cerr << "backed up " << tables << (tables == 1 ? " table, " : " tables, ")
                  << ui::group_thousands(m.total_rows()) << " rows, "
                  << ui::format_bytes(m.total_stored_bytes()) << " stored, in " << ms << " ms\n";
        std::cout << m.backup_id << "\n";
    }
    return 0;
}

int run_list(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    const auto backups = backup::list_backups(*store, o.keys);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &b : backups) out.push_back(summary_json(b));
        ui::print_json(std::cout, out);
        return 0;
    }
    if (backups.empty()) {
        std::cout << "no backups in " << store->url() << "\n";
        return 0;
    }
    ui::Table table{{"id", "created", "tables", "rows", "stored", "state", "label"}, {}};
    for (const auto &b : backups) {
        std::string state = !b.complete             ? "incomplete"
                            : !b.authenticated      ? "unauthenticated"
                            : b.verified_at.empty() ? "not verified"
                                                    : "verified " + b.verified_at;
        if (!b.manifest) {
            table.rows.push_back({b.id, "", "", "", ui::format_bytes(b.stored_bytes), state, ""});
            continue;
        }
        const auto &m = *b.manifest;
        table.rows.push_back({b.id, m.created_at,
                              std::to_string(m.postgres ? m.postgres->tables.size() : 0),
                              ui::group_thousands(m.total_rows()), ui::format_bytes(b.stored_bytes),
                              state, m.label});
    }
    ui::print_table(std::cout, table);
    for (const auto &b : backups)
        if (b.complete && !b.authenticated) std::cerr << b.id << ": " << b.problem << "\n";
    return 0;
}

int run_verify(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    ui::ProgressBar bar("verifying " + o.id, 0, "", true);
    const auto r =
        backup::verify_backup(*store, o.id, o.keys, [&bar](uint64_t bytes) { bar.update(bytes); });
    bar.finish();
    if (global.json)
        ui::print_json(std::cout, {{"id", r.id},
                                   {"ok", true},
                                   {"objects", r.objects},
                                   {"rows", r.rows},
                                   {"stored_bytes", r.stored_bytes}});
    else
        std::cout << "backup " << r.id << " is good: " << r.objects
                  << (r.objects == 1 ? " object" : " objects")
                  << " authenticated, SHA-256 and row counts match (" << ui::group_thousands(r.rows)
                  << " rows, " << ui::format_bytes(r.stored_bytes) << ")\n";
    return 0;
}

int run_restore(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    archive::BackupKey key{};
    const auto m = backup::open_backup(*store, o.id, o.keys, key);
    backup::PgRestoreOptions opts;
    opts.conninfo = o.target_db.empty() ? global.connection.db : o.target_db;
    opts.tables = o.pg_tables;
    opts.dry_run = o.dry_run;
    ui::ProgressBar bar("restoring " + o.id, 0, "", true);
    const auto plan = backup::restore_postgres(opts, m, *store, key,
                                               [&bar](uint64_t bytes) { bar.update(bytes); });
    bar.finish();
    bool blocked = false;
    for (const auto &s : plan.steps) blocked = blocked || s.action.rfind("cannot", 0) == 0;
    if (global.json) {
        nlohmann::json steps = nlohmann::json::array();
        for (const auto &s : plan.steps)
            steps.push_back({{"table", s.table},
                             {"backup_rows", s.backup_rows},
                             {"target_rows",
                              s.target_rows < 0 ? nlohmann::json() : nlohmann::json(s.target_rows)},
                             {"action", s.action},
                             {"restored_rows", s.restored_rows}});
        ui::print_json(std::cout,
                       {{"id", m.backup_id},
                        {"dry_run", o.dry_run},
                        {"target_database", plan.target_database},
                        {"schema_version", m.postgres && m.postgres->schema_version
                                               ? nlohmann::json(*m.postgres->schema_version)
                                               : nlohmann::json()},
                        {"steps", steps}});
    } else {
        std::cout << (o.dry_run ? "plan: restore backup " : "restored backup ") << m.backup_id
                  << " into " << plan.target_database;
        if (m.postgres && m.postgres->schema_version)
            std::cout << " (schema at migration " << *m.postgres->schema_version << ")";
        std::cout << "\n";
        ui::Table table{{"table", "backup rows", "target rows now", o.dry_run ? "would" : "did"},
                        {}};
        for (const auto &s : plan.steps)
            table.rows.push_back(
                {s.table, ui::group_thousands(s.backup_rows),
                 s.target_rows < 0 ? "(missing)" : ui::group_thousands(s.target_rows), s.action});
        ui::print_table(std::cout, table);
        if (o.dry_run) std::cout << "dry run: nothing was changed\n";
    }
    return blocked ? static_cast<int>(ExitCode::kRefusedBySafetyCheck) : 0;
}

int run_prune(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    backup::PruneOptions opts;
    opts.keep_last = o.keep_last;
    opts.keep_days = o.keep_days;
    opts.dry_run = o.dry_run;
    const auto decisions = backup::prune_backups(*store, o.keys, opts);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &d : decisions)
            out.push_back({{"id", d.id},
                           {"action", d.keep ? "keep" : (o.dry_run ? "would delete" : "deleted")},
                           {"reason", d.reason},
                           {"objects", d.objects}});
        ui::print_json(std::cout, out);
    } else {
        ui::Table table{{"id", "action", "objects", "why"}, {}};
        for (const auto &d : decisions)
            table.rows.push_back({d.id, d.keep ? "keep" : (o.dry_run ? "would delete" : "deleted"),
                                  std::to_string(d.objects), d.reason});
        ui::print_table(std::cout, table);
        if (o.dry_run) std::cout << "dry run: nothing was deleted\n";
    }
    return 0;
}

}  // namespace

void setup_backup(CLI::App &app, GlobalOptions &global, Run &run) {
    auto o = std::make_shared<BackupOptions>();
    auto *cmd = app.add_subcommand(
        "backup", "Encrypted, verifiable backups of PostgreSQL tables in a folder or S3");
    cmd->require_subcommand(1);
    cmd->footer(
        "Objects are COPY (FORMAT binary) streams, compressed with zstd and encrypted with\n"
        "AES-256-GCM in authenticated chunks; the manifest (written last) records every\n"
        "object's SHA-256, size and row count and is authenticated with the backup key.\n"
        "Store URLs: file:///path/to/dir or s3://bucket/prefix (AWS environment, see\n"
        "docs/backups.md). The key: --key-file or --passphrase-file, or the environment\n"
        "variables PGMIG_BACKUP_KEY_FILE / PGMIG_BACKUP_PASSPHRASE; never on the command line.\n"
        "\n"
        "Examples:\n"
        "  head -c 32 /dev/urandom > backup.key\n"
        "  pgmig backup create --to file:///var/backups/app --key-file backup.key -j 2\n"
        "  pgmig backup list --from file:///var/backups/app --key-file backup.key\n"
        "  pgmig backup verify 20261122T035900Z-1a2b3c --from file:///var/backups/app "
        "--key-file backup.key\n"
        "  pgmig backup restore 20261122T035900Z-1a2b3c --from file:///var/backups/app "
        "--key-file backup.key --pg-table users --dry-run\n"
        "  pgmig backup prune --from file:///var/backups/app --key-file backup.key "
        "--keep-last 7 --keep-days 30");

    auto *create = cmd->add_subcommand("create", "Back up tables; prints the backup id");
    create->add_option("--to", o->url, "Where: file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    create->add_option("--pg-table", o->pg_tables, "Only this table (repeatable)")
        ->type_name("TABLE");
    create->add_option("--pg-schema", o->pg_schemas, "Every table of this schema (repeatable)")
        ->type_name("SCHEMA");
    create->add_option("-j,--jobs", o->jobs, "Tables copied in parallel (default 1)")
        ->type_name("N");
    create->add_option("--compress-level", o->level, "zstd level 1-19 (default 3)")->type_name("L");
    create->add_option("--label", o->label, "A note stored in the manifest")->type_name("TEXT");
    add_key_options(create, *o);
    create->footer(
        "Default: every user table of the database (not pg_migrate's own tables or\n"
        "extension members). All tables come from one snapshot, also with -j N: the\n"
        "backup is consistent while other sessions write. The manifest records the last\n"
        "applied migration, so a restore goes into a database at the same schema.\n"
        "\n"
        "Example:\n"
        "  pgmig backup create --to s3://acme-backups/app --key-file backup.key -j 4 "
        "--label nightly");
    create->callback([o, &global, &run] { run = [o, &global] { return run_create(*o, global); }; });

    auto *list = cmd->add_subcommand("list", "List the backups in a store");
    list->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    add_key_options(list, *o);
    list->footer(
        "Shows id, time, tables, rows, stored size and state: verified (with when),\n"
        "not verified, incomplete (no manifest: a failed or running backup) or\n"
        "unauthenticated (another key, or a changed manifest).");
    list->callback([o, &global, &run] { run = [o, &global] { return run_list(*o, global); }; });

    auto *verify = cmd->add_subcommand("verify", "Re-read and check every object of a backup");
    verify->add_option("id", o->id, "Backup id")->required();
    verify->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    add_key_options(verify, *o);
    verify->footer(
        "Authenticates the manifest and every chunk of every object, decompresses, checks\n"
        "each SHA-256, stored size and row count, and names the first bad object and why\n"
        "(exit 1). A good backup is marked verified (prune always keeps the newest one).");
    verify->callback([o, &global, &run] { run = [o, &global] { return run_verify(*o, global); }; });

    auto *restore = cmd->add_subcommand("restore", "Restore tables from a backup");
    restore->add_option("id", o->id, "Backup id")->required();
    restore->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    restore->add_option("--pg-table", o->pg_tables, "Only this table (repeatable)")
        ->type_name("TABLE");
    restore->add_option("--target-db", o->target_db, "Restore into this database instead of --db")
        ->type_name("CONNINFO|URL");
    restore->add_flag("--dry-run", o->dry_run, "Print the plan; change nothing");
    add_key_options(restore, *o);
    restore->footer(
        "The target must be at the backup's migration (else exit 3: run pgmig up --to\n"
        "first) and have the tables with the same columns. The chosen tables' rows are\n"
        "replaced in one transaction (TRUNCATE, then COPY, parents before children,\n"
        "sequences set): every object is authenticated and its row count and SHA-256\n"
        "checked before the commit, so a bad backup changes nothing.\n"
        "\n"
        "Examples:\n"
        "  pgmig backup restore ID --from file:///backups --key-file k --dry-run\n"
        "  pgmig backup restore ID --from file:///backups --key-file k --pg-table orders "
        "--target-db postgresql://localhost/staging");
    restore->callback(
        [o, &global, &run] { run = [o, &global] { return run_restore(*o, global); }; });

    auto *prune = cmd->add_subcommand("prune", "Delete old backups by a retention rule");
    prune->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    prune->add_option("--keep-last", o->keep_last, "Keep the newest N good backups")
        ->type_name("N");
    prune->add_option("--keep-days", o->keep_days, "Keep backups younger than D days")
        ->type_name("D");
    prune->add_flag("--dry-run", o->dry_run, "Show what would be deleted; delete nothing");
    add_key_options(prune, *o);
    prune->footer(
        "A backup is kept when it is one of the newest N, younger than D days, the newest\n"
        "verified backup (always), or cannot be authenticated with this key. Incomplete\n"
        "backups (no manifest) older than 24 hours are leftovers of failed runs and are\n"
        "deleted. Each backup's data objects are deleted before its manifest.");
    prune->callback([o, &global, &run] { run = [o, &global] { return run_prune(*o, global); }; });
}

}  // namespace pgmig::commands
