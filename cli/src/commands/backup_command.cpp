// pgmig backup create|list|verify|restore|prune: encrypted, verifiable backups of PostgreSQL
// and DynamoDB tables in a local folder or S3.
#include "backup/backup_catalog.hpp"
#include "backup/dynamodb_backup.hpp"
#include "backup/pg_restore.hpp"
#include "commands/command.hpp"
#include "exit_code.hpp"
#include "ui/output.hpp"
#include "ui/progress.hpp"

#include <iostream>
#include <memory>
#include <optional>

namespace pgmig::commands {

namespace {

struct BackupOptions {
    std::string url;
    backup::KeySource keys;
    // create
    std::vector<std::string> pg_tables, pg_schemas;
    std::vector<std::string> dynamodb_tables;  // also restore
    bool no_postgres = false;
    bool with_ddl = false;
    bool consistent_read = false;
    int dynamodb_segments = 4;
    int jobs = 1;
    int level = 3;
    std::string label;
    // verify, restore
    std::string id;
    std::string target_db;
    bool dry_run = false;
    bool keep_triggers = false;
    int lock_wait_seconds = 60;
    std::vector<std::string> dynamodb_renames;  // OLD=NEW
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
        {"state", backup::state_text(b)},
        {"damage", b.damage.empty() ? nlohmann::json() : nlohmann::json(b.damage)},
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
        if (m.dynamodb)
            for (const auto &t : m.dynamodb->tables)
                tables.push_back({{"store", "dynamodb"},
                                  {"table", t.name},
                                  {"rows", t.items},
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

size_t table_count(const archive::Manifest &m) {
    return (m.postgres ? m.postgres->tables.size() : 0) +
           (m.dynamodb ? m.dynamodb->tables.size() : 0);
}

int run_create(const BackupOptions &o, const GlobalOptions &global) {
    if (o.jobs < 1 || o.jobs > 32) throw UsageError("-j must be between 1 and 32");
    if (o.level < 1 || o.level > 19) throw UsageError("--compress-level must be between 1 and 19");
    if (o.dynamodb_segments < 1 || o.dynamodb_segments > 64)
        throw UsageError("--dynamodb-segments must be between 1 and 64");
    const bool pg_named = !o.pg_tables.empty() || !o.pg_schemas.empty();
    if (o.no_postgres && pg_named)
        throw UsageError("--no-postgres contradicts --pg-table and --pg-schema");
    if (o.no_postgres && o.dynamodb_tables.empty())
        throw UsageError("--no-postgres leaves nothing to back up: add --dynamodb-table");
    if (o.consistent_read && o.dynamodb_tables.empty())
        throw UsageError("--consistent-read applies to DynamoDB tables: add --dynamodb-table");
    auto store = store::open_store(o.url);
    backup::CreateOptions opts;
    // DynamoDB tables alone back up no PostgreSQL tables and need no database; naming
    // PostgreSQL tables or schemas as well backs up both.
    if (!o.no_postgres && (pg_named || o.dynamodb_tables.empty())) {
        backup::PgBackupOptions pg;
        pg.conninfo = global.connection.db;
        pg.tables = o.pg_tables;
        pg.schemas = o.pg_schemas;
        pg.jobs = o.jobs;
        pg.with_ddl = o.with_ddl;
        opts.postgres = pg;
    }
    if (!o.dynamodb_tables.empty()) {
        backup::DynamoBackupOptions ddb;
        ddb.tables = o.dynamodb_tables;
        ddb.segments = o.dynamodb_segments;
        ddb.consistent_read = o.consistent_read;
        opts.dynamodb = ddb;
    }
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
                                   {"tables", table_count(m)},
                                   {"duration_ms", std::stod(ms)}});
    } else {
        const size_t tables = table_count(m);
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
        const std::string state = backup::state_text(b);
        if (!b.manifest) {
            table.rows.push_back({b.id, "", "", "", ui::format_bytes(b.stored_bytes), state, ""});
            continue;
        }
        const auto &m = *b.manifest;
        table.rows.push_back({b.id, m.created_at, std::to_string(table_count(m)),
                              ui::group_thousands(m.total_rows()), ui::format_bytes(b.stored_bytes),
                              state, m.label});
    }
    ui::print_table(std::cout, table);
    std::cout << "verified <when>: the last verify passed then; list itself reads no object "
                 "(it checks only that each is present, with its size): run verify for now\n";
    for (const auto &b : backups) {
        if (b.complete && !b.authenticated) std::cerr << b.id << ": " << b.problem << "\n";
        if (!b.damage.empty()) std::cerr << b.id << ": " << b.damage << "\n";
    }
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

bool blocked(const std::string &action) {
    return action.rfind("cannot", 0) == 0;
}

nlohmann::json dynamodb_plan_json(const backup::DynamoRestorePlan &plan) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto &s : plan.steps)
        steps.push_back({{"table", s.table},
                         {"target", s.target},
                         {"target_exists", s.target_exists},
                         {"backup_items", s.backup_items},
                         {"action", s.action},
                         {"restored_items", s.restored_items}});
    return {{"region", plan.region}, {"endpoint", plan.endpoint}, {"steps", steps}};
}

int run_restore(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    archive::BackupKey key{};
    const auto m = backup::open_backup(*store, o.id, o.keys, key);
    // Only the kind of tables named is restored; with none named, everything in the backup.
    const bool pg_named = !o.pg_tables.empty();
    const bool ddb_named = !o.dynamodb_tables.empty();
    const bool do_pg = pg_named || (!ddb_named && m.postgres);
    const bool do_ddb = ddb_named || (!pg_named && m.dynamodb);
    backup::DynamoRestoreOptions ddb_opts;
    ddb_opts.tables = o.dynamodb_tables;
    ddb_opts.rename = backup::parse_dynamodb_renames(o.dynamodb_renames);
    ddb_opts.dry_run = o.dry_run;
    if (!ddb_opts.rename.empty() && !do_ddb)
        throw UsageError(
            "--rename-dynamodb: no DynamoDB tables are restored" +
            std::string(pg_named ? " (--pg-table restores only PostgreSQL tables)" : ""));
    if (!o.target_db.empty() && !do_pg)
        throw UsageError("--target-db: no PostgreSQL tables are restored");
    if (!do_pg && !do_ddb) throw UsageError("backup " + m.backup_id + " holds no tables");

    if (o.lock_wait_seconds < 1 || o.lock_wait_seconds > 86400)
        throw UsageError("--lock-wait must be between 1 and 86400 seconds");

    // The DynamoDB targets are checked, and its objects staged and checked in full, before
    // PostgreSQL changes anything: a refusal or a damaged object leaves both untouched.
    std::optional<backup::DynamoRestore> ddb;
    if (do_ddb) {
        ddb.emplace(ddb_opts, m, *store, key);
        ddb->stage();
    }

    ui::ProgressBar bar("restoring " + o.id, 0, "", true);
    uint64_t pg_bytes = 0;
    std::optional<backup::PgRestorePlan> pg_plan;
    std::optional<backup::DynamoRestorePlan> ddb_plan;
    if (do_pg) {
        backup::PgRestoreOptions opts;
        opts.conninfo = o.target_db.empty() ? global.connection.db : o.target_db;
        opts.tables = o.pg_tables;
        opts.dry_run = o.dry_run;
        opts.with_ddl = o.with_ddl;
        opts.keep_triggers = o.keep_triggers;
        opts.lock_wait.total_ms = o.lock_wait_seconds * 1000;
        pg_plan = backup::restore_postgres(opts, m, *store, key, [&](uint64_t bytes) {
            pg_bytes = bytes;
            bar.update(bytes);
        });
    }
    if (ddb) ddb_plan = ddb->load([&](uint64_t bytes) { bar.update(pg_bytes + bytes); });
    bar.finish();

    bool refused = false;
    if (pg_plan)
        for (const auto &s : pg_plan->steps) refused = refused || blocked(s.action);
    if (ddb_plan)
        for (const auto &s : ddb_plan->steps) refused = refused || blocked(s.action);
    if (global.json) {
        nlohmann::json steps = nlohmann::json::array();
        if (pg_plan)
            for (const auto &s : pg_plan->steps)
                steps.push_back({{"table", s.table},
                                 {"backup_rows", s.backup_rows},
                                 {"target_rows", s.target_rows < 0 ? nlohmann::json()
                                                                   : nlohmann::json(s.target_rows)},
                                 {"action", s.action},
                                 {"restored_rows", s.restored_rows},
                                 {"triggers", s.triggers},
                                 {"triggers_fire", s.triggers_fire}});
        ui::print_json(std::cout,
                       {{"id", m.backup_id},
                        {"dry_run", o.dry_run},
                        {"target_database",
                         pg_plan ? nlohmann::json(pg_plan->target_database) : nlohmann::json()},
                        {"schema_version", m.postgres && m.postgres->schema_version
                                               ? nlohmann::json(*m.postgres->schema_version)
                                               : nlohmann::json()},
                        {"steps", steps},
                        {"dynamodb", ddb_plan ? dynamodb_plan_json(*ddb_plan) : nlohmann::json()}});
        return refused ? static_cast<int>(ExitCode::kRefusedBySafetyCheck) : 0;
    }
    const char *would_or_did = o.dry_run ? "would" : "did";
    if (pg_plan) {
        std::cout << (o.dry_run ? "plan: restore backup " : "restored backup ") << m.backup_id
                  << " into " << pg_plan->target_database;
        if (m.postgres && m.postgres->schema_version)
            std::cout << " (schema at migration " << *m.postgres->schema_version << ")";
        std::cout << "\n";
        ui::Table table{{"table", "backup rows", "target rows now", would_or_did}, {}};
        for (const auto &s : pg_plan->steps)
            table.rows.push_back(
                {s.table, ui::group_thousands(s.backup_rows),
                 s.target_rows < 0 ? "(missing)" : ui::group_thousands(s.target_rows), s.action});
        ui::print_table(std::cout, table);
        bool any_triggers = false;
        for (const auto &s : pg_plan->steps) any_triggers = any_triggers || !s.triggers.empty();
        if (any_triggers)
            std::cout << (o.keep_triggers
                              ? "the target's triggers fire during the load (--keep-triggers)\n"
                              : "the target's user triggers are off during the load (in the "
                                "restore's transaction; --keep-triggers to let them fire)\n");
    }
    if (ddb_plan) {
        std::cout << (o.dry_run ? "plan: restore DynamoDB tables of backup "
                                : "restored DynamoDB tables of backup ")
                  << m.backup_id << " into region " << ddb_plan->region << " at "
                  << ddb_plan->endpoint << "\n";
        ui::Table table{
            {"DynamoDB table", "restore as", "backup items", "target table", would_or_did}, {}};
        for (const auto &s : ddb_plan->steps)
            table.rows.push_back({s.table, s.target, ui::group_thousands(s.backup_items),
                                  s.target_exists ? (o.dry_run ? "exists" : "existed")
                                                  : (o.dry_run ? "(missing)" : "created"),
                                  s.action});
        ui::print_table(std::cout, table);
    }
    if (o.dry_run) std::cout << "dry run: nothing was changed\n";
    return refused ? static_cast<int>(ExitCode::kRefusedBySafetyCheck) : 0;
}

int run_prune(const BackupOptions &o, const GlobalOptions &global) {
    auto store = store::open_store(o.url);
    backup::PruneOptions opts;
    opts.keep_last = o.keep_last;
    opts.keep_days = o.keep_days;
    opts.dry_run = o.dry_run;
    const auto decisions = backup::prune_backups(*store, o.keys, opts);
    // Unfinished uploads are found by another listing, which not every S3-compatible server
    // has: a failure there is reported, and does not undo the prune of the backups.
    std::vector<backup::AbandonedUploadDecision> uploads;
    std::string uploads_problem, uploads_unsupported;
    try {
        uploads = backup::prune_abandoned_uploads(*store, opts);
    } catch (const store::OperationNotSupported &e) {
        uploads_unsupported = e.what();  // nothing to find there: not a failure
    } catch (const store::StoreError &e) {
        uploads_problem = e.what();
    }
    auto upload_action = [&o](const backup::AbandonedUploadDecision &u) {
        return o.dry_run ? "would abort upload" : u.removed ? "aborted upload" : "abort failed";
    };
    auto upload_reason = [&opts](const backup::AbandonedUploadDecision &u) {
        return "unfinished upload of " + u.key + " started " + u.started_at + ", more than " +
               std::to_string(opts.leftover_hours) + " hours ago" +
               (u.problem.empty() ? "" : ": " + u.problem);
    };
    bool failed = !uploads_problem.empty();
    for (const auto &u : uploads) failed = failed || !u.problem.empty();
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &d : decisions)
            out.push_back({{"id", d.id},
                           {"action", d.keep ? "keep" : (o.dry_run ? "would delete" : "deleted")},
                           {"reason", d.reason},
                           {"objects", d.objects}});
        for (const auto &u : uploads)
            out.push_back({{"id", u.key.substr(0, u.key.find('/'))},
                           {"upload", u.key},
                           {"action", upload_action(u)},
                           {"reason", upload_reason(u)},
                           {"objects", 0}});
        ui::print_json(std::cout, out);
    } else {
        ui::Table table{{"id", "action", "objects", "why"}, {}};
        for (const auto &d : decisions)
            table.rows.push_back({d.id, d.keep ? "keep" : (o.dry_run ? "would delete" : "deleted"),
                                  std::to_string(d.objects), d.reason});
        for (const auto &u : uploads)
            table.rows.push_back(
                {u.key.substr(0, u.key.find('/')), upload_action(u), "", upload_reason(u)});
        ui::print_table(std::cout, table);
        if (o.dry_run) std::cout << "dry run: nothing was deleted\n";
    }
    if (!uploads_unsupported.empty())
        std::cerr << "pgmig: note: this store cannot list unfinished uploads ("
                  << uploads_unsupported << ")\n";
    if (!uploads_problem.empty())
        std::cerr << "pgmig: error: the backups were pruned, but unfinished uploads could not be "
                     "looked for: "
                  << uploads_problem
                  << " (allow s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, or let "
                     "an S3 lifecycle rule with AbortIncompleteMultipartUpload remove them; see "
                     "docs/backups.md)\n";
    for (const auto &u : uploads)
        if (!u.problem.empty())
            std::cerr << "pgmig: warning: could not abort the upload of " << u.key << ": "
                      << u.problem << "\n";
    return failed ? static_cast<int>(ExitCode::kFailed) : 0;
}

}  // namespace

void setup_backup(CLI::App &app, GlobalOptions &global, Run &run) {
    auto o = std::make_shared<BackupOptions>();
    auto *cmd = app.add_subcommand(
        "backup",
        "Encrypted, verifiable backups of PostgreSQL and DynamoDB tables in a folder or S3");
    cmd->require_subcommand(1);
    cmd->footer(
        "Objects are COPY (FORMAT binary) streams (PostgreSQL) or DynamoDB-JSON lines, one\n"
        "item per line (DynamoDB), compressed with zstd and encrypted with AES-256-GCM in\n"
        "authenticated chunks; the manifest (written last) records every object's SHA-256,\n"
        "size and row count and is authenticated with the backup key.\n"
        "Store URLs: file:///path/to/dir or s3://bucket/prefix (AWS environment, see\n"
        "docs/backups.md). The key: --key-file or --passphrase-file, or the environment\n"
        "variables PGMIG_BACKUP_KEY_FILE / PGMIG_BACKUP_PASSPHRASE; never on the command line.\n"
        "\n"
        "Examples:\n"
        "  head -c 32 /dev/urandom > backup.key\n"
        "  pgmig backup create --to file:///var/backups/app --key-file backup.key -j 2\n"
        "  pgmig backup create --to file:///var/backups/app --key-file backup.key "
        "--dynamodb-table orders\n"
        "  pgmig backup list --from file:///var/backups/app --key-file backup.key\n"
        "  pgmig backup verify 20261122T035900Z-1a2b3c --from file:///var/backups/app "
        "--key-file backup.key\n"
        "  pgmig backup restore 20261122T035900Z-1a2b3c --from file:///var/backups/app "
        "--key-file backup.key --pg-table users --dry-run\n"
        "  pgmig backup restore 20261122T035900Z-1a2b3c --from file:///var/backups/app "
        "--key-file backup.key --rename-dynamodb orders=orders_restored\n"
        "  pgmig backup prune --from file:///var/backups/app --key-file backup.key "
        "--keep-last 7 --keep-days 30");

    auto *create = cmd->add_subcommand("create", "Back up tables; prints the backup id");
    create->add_option("--to", o->url, "Where: file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    create->add_option("--pg-table", o->pg_tables, "Only this PostgreSQL table (repeatable)")
        ->type_name("TABLE");
    create->add_option("--pg-schema", o->pg_schemas, "Every table of this schema (repeatable)")
        ->type_name("SCHEMA");
    create
        ->add_option("--dynamodb-table", o->dynamodb_tables,
                     "This DynamoDB table (repeatable); alone, no PostgreSQL tables")
        ->type_name("TABLE");
    create->add_flag("--no-postgres", o->no_postgres,
                     "Back up no PostgreSQL tables (no database connection)");
    create
        ->add_option("--dynamodb-segments", o->dynamodb_segments,
                     "Parallel Scan segments per DynamoDB table (default 4)")
        ->type_name("N");
    create->add_flag("--consistent-read", o->consistent_read,
                     "Strongly consistent DynamoDB reads (twice the read capacity)");
    create->add_option("-j,--jobs", o->jobs, "Tables copied in parallel (default 1)")
        ->type_name("N");
    create->add_option("--compress-level", o->level, "zstd level 1-19 (default 3)")->type_name("L");
    create->add_option("--label", o->label, "A note stored in the manifest")->type_name("TEXT");
    create->add_flag("--with-ddl", o->with_ddl,
                     "Also store the tables' definitions (pg_dump --schema-only, same snapshot), "
                     "for databases not managed by migrations");
    add_key_options(create, *o);
    create->footer(
        "Default: every user table of the database (not pg_migrate's own tables or\n"
        "extension members). All tables come from one snapshot, also with -j N: the\n"
        "backup is consistent while other sessions write. The manifest records the last\n"
        "applied migration, so a restore goes into a database at the same schema.\n"
        "\n"
        "DynamoDB: each --dynamodb-table is read by a parallel Scan (--dynamodb-segments N\n"
        "threads) into one object, and its keys, indexes and billing mode go into the\n"
        "manifest. A Scan is not a snapshot: items written meanwhile may or may not be in\n"
        "the backup. With only --dynamodb-table (or --no-postgres) no database is needed.\n"
        "AWS credentials and region come from the environment or ~/.aws; set\n"
        "AWS_ENDPOINT_URL_DYNAMODB for another endpoint (DynamoDB Local, dynalite).\n"
        "PGMIG_DYNAMODB_MAX_RETRIES (default 10) bounds the retries of throttled requests.\n"
        "\n"
        "Examples:\n"
        "  pgmig backup create --to s3://acme-backups/app --key-file backup.key -j 4 "
        "--label nightly\n"
        "  pgmig backup create --to s3://acme-backups/ddb --key-file backup.key --no-postgres "
        "--dynamodb-table orders --dynamodb-table events --dynamodb-segments 8\n"
        "  pgmig backup create --to file:///backups --key-file backup.key --pg-schema app "
        "--dynamodb-table sessions --consistent-read");
    create->callback([o, &global, &run] { run = [o, &global] { return run_create(*o, global); }; });

    auto *list = cmd->add_subcommand("list", "List the backups in a store");
    list->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    add_key_options(list, *o);
    list->footer(
        "Shows id, time, tables, rows, stored size and state: verified <when> (what the\n"
        "last verify found, then: list reads no object, so run verify for the current\n"
        "truth), not verified, damaged (an object is missing or has another size than the\n"
        "manifest says, whenever it was verified), incomplete (no manifest: a failed or\n"
        "running backup) or unauthenticated (another key, or a changed manifest).");
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
        "(exit 1). A good backup is marked verified (prune always keeps the newest one).\n"
        "\n"
        "Example:\n"
        "  pgmig backup verify 20261122T035900Z-1a2b3c --from s3://acme-backups/app "
        "--key-file backup.key");
    verify->callback([o, &global, &run] { run = [o, &global] { return run_verify(*o, global); }; });

    auto *restore = cmd->add_subcommand("restore", "Restore tables from a backup");
    restore->add_option("id", o->id, "Backup id")->required();
    restore->add_option("--from", o->url, "file:///dir or s3://bucket/prefix")
        ->required()
        ->type_name("URL");
    restore->add_option("--pg-table", o->pg_tables, "Only this PostgreSQL table (repeatable)")
        ->type_name("TABLE");
    restore
        ->add_option("--dynamodb-table", o->dynamodb_tables,
                     "Only this DynamoDB table, by its name in the backup (repeatable)")
        ->type_name("TABLE");
    restore
        ->add_option("--rename-dynamodb", o->dynamodb_renames,
                     "Restore DynamoDB table OLD as NEW (repeatable)")
        ->type_name("OLD=NEW");
    restore->add_option("--target-db", o->target_db, "Restore into this database instead of --db")
        ->type_name("CONNINFO|URL");
    restore->add_flag("--dry-run", o->dry_run,
                      "Print the plan and every refusal the restore would make; change nothing");
    restore->add_flag("--keep-triggers", o->keep_triggers,
                      "Let the target's user triggers fire during the load (default: off, as "
                      "pg_restore --disable-triggers)");
    restore
        ->add_option("--lock-wait", o->lock_wait_seconds,
                     "Give up after waiting this long for the tables' locks (default 60)")
        ->type_name("SECONDS");
    restore->add_flag("--with-ddl", o->with_ddl,
                      "Create the tables from the backup's definitions when the target has none "
                      "of them (backups made with --with-ddl)");
    add_key_options(restore, *o);
    restore->footer(
        "The target must be at the backup's migration (else exit 3: run pgmig up --to\n"
        "first) and have the tables with the same columns; a table that a table left out\n"
        "of the restore references is refused too (exit 3). --dry-run makes the same checks.\n"
        "The chosen tables' rows are replaced in one transaction (TRUNCATE, then COPY,\n"
        "parents before children): every object is authenticated and its row count and\n"
        "SHA-256 checked, and only then are the sequences set, so a bad backup changes\n"
        "nothing, sequences included. The target's user triggers are off during the load\n"
        "(--keep-triggers lets them fire). Locks are taken in short attempts (readers are\n"
        "never stuck behind a waiting restore); after --lock-wait seconds the restore gives\n"
        "up, naming the sessions in its way.\n"
        "\n"
        "DynamoDB tables missing in the target are created (keys, indexes, billing mode\n"
        "from the backup); an existing table with the same key schema is loaded into (items\n"
        "with the same key are overwritten, others stay); another key schema is refused\n"
        "(exit 3, nothing changed). Items go in with BatchWriteItem; unprocessed and\n"
        "throttled items are sent again with backoff, and if DynamoDB accepts nothing for\n"
        "PGMIG_DYNAMODB_MAX_RETRIES attempts (default 10) the restore fails (exit 1) saying\n"
        "how many items were not written; running it again is safe. Naming only --pg-table\n"
        "restores only PostgreSQL, only --dynamodb-table only DynamoDB; neither, both.\n"
        "\n"
        "Examples:\n"
        "  pgmig backup restore ID --from file:///backups --key-file k --dry-run\n"
        "  pgmig backup restore ID --from file:///backups --key-file k --pg-table orders "
        "--target-db postgresql://localhost/staging\n"
        "  pgmig backup restore ID --from file:///backups --key-file k --dynamodb-table orders "
        "--rename-dynamodb orders=orders_copy --dry-run");
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
        "deleted, and so are unfinished uploads older than 24 hours (S3 multipart uploads\n"
        "of a killed backup, whose parts are billed until aborted; local temporary files).\n"
        "A backup with a missing or resized object is kept but never counted as good.\n"
        "Each backup's manifest is deleted before its data objects.\n"
        "\n"
        "Examples:\n"
        "  pgmig backup prune --from file:///var/backups/app --key-file k --keep-last 7 "
        "--dry-run\n"
        "  pgmig backup prune --from s3://acme-backups/app --key-file k --keep-days 30");
    prune->callback([o, &global, &run] { run = [o, &global] { return run_prune(*o, global); }; });
}

}  // namespace pgmig::commands
