#include "backup/pg_restore.hpp"

#include "backup/object_io.hpp"
#include "backup/pg_schema_dump.hpp"
#include "backup/pg_session.hpp"
#include "backup/schema_version.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pgmig::backup {

namespace {

struct TriggerState {
    std::string quoted_name;
    std::string name;
    char enabled = 'O';  // pg_trigger.tgenabled: O origin, A always, R replica
};

struct SequenceReset {
    std::string oid;
    std::string name;          // regclass text
    std::string restart_with;  // ALTER SEQUENCE ... RESTART WITH this; empty: setval below
    int64_t last_value = 0;
    bool is_called = false;
};

struct Target {
    const archive::PgTable *table = nullptr;
    std::string oid;                     // empty when missing
    std::string regclass;                // quoted by the server
    std::vector<std::string> problems;   // why it cannot be restored
    std::vector<TriggerState> triggers;  // enabled user triggers
    std::vector<SequenceReset> sequences;
};

std::string qualified(const archive::PgTable &t) {
    return t.schema + "." + t.name;
}

bool selected(const archive::PgTable &t, const std::vector<std::string> &wanted) {
    if (wanted.empty()) return true;
    for (const auto &w : wanted)
        if (w == qualified(t) || (w == t.name && w.find('.') == std::string::npos)) return true;
    return false;
}

bool is_true(const db::Value &v) {
    return v == db::Value("t") || v == db::Value("true");
}

std::string joined(const std::vector<std::string> &items, const char *separator = ", ") {
    std::string out;
    for (const auto &i : items) out += (out.empty() ? "" : separator) + i;
    return out;
}

std::string oid_array(const std::vector<Target> &targets) {
    std::vector<std::string> oids;
    for (const auto &t : targets)
        if (!t.oid.empty()) oids.push_back(t.oid);
    return "{" + joined(oids, ",") + "}";
}

// Whether the columns match (names and types, in order): COPY binary is positional and typed.
void check_columns(db::Connection &conn, Target &target) {
    const archive::PgTable &t = *target.table;
    auto cols = conn.query(
        "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "FROM pg_catalog.pg_attribute a "
        "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
        "AND a.attgenerated = '' ORDER BY a.attnum",
        {target.oid});
    std::vector<archive::PgColumn> live;
    for (const auto &c : cols.rows) live.push_back({*c[0], *c[1]});
    if (live.size() != t.columns.size()) {
        target.problems.push_back("has " + std::to_string(live.size()) + " columns, the backup " +
                                  std::to_string(t.columns.size()));
        return;
    }
    for (size_t i = 0; i < live.size(); ++i)
        if (live[i].name != t.columns[i].name || live[i].type != t.columns[i].type) {
            target.problems.push_back("column " + std::to_string(i + 1) + " is " + live[i].name +
                                      " " + live[i].type + " in the target, " + t.columns[i].name +
                                      " " + t.columns[i].type + " in the backup");
            return;
        }
}

// What the load needs of the table beyond its columns: privileges, no row-level security
// (COPY FROM refuses it), and triggers it can turn off.
void check_access(db::Connection &conn, Target &target, const PgRestoreOptions &opts,
                  bool fresh_tables) {
    auto r = conn.query(
        "SELECT pg_catalog.has_table_privilege($1::oid, 'INSERT'), "
        "       pg_catalog.has_table_privilege($1::oid, 'TRUNCATE'), "
        "       pg_catalog.row_security_active($1::oid), "
        "       pg_catalog.pg_has_role(c.relowner, 'USAGE') "
        "FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
        {target.oid});
    const bool can_insert = is_true(r.rows.at(0)[0]), can_truncate = is_true(r.rows[0][1]),
               rls = is_true(r.rows[0][2]), owner = is_true(r.rows[0][3]);
    if (!can_insert) target.problems.push_back("you have no INSERT privilege on it");
    if (!can_truncate && !fresh_tables)
        target.problems.push_back("you have no TRUNCATE privilege on it");
    if (rls)
        target.problems.push_back(
            "row-level security applies to you on it, and COPY FROM cannot load such a table: "
            "restore as its owner or a role with BYPASSRLS");
    auto triggers = conn.query(
        "SELECT pg_catalog.quote_ident(t.tgname), t.tgname, t.tgenabled::text "
        "FROM pg_catalog.pg_trigger t "
        "WHERE t.tgrelid = $1::oid AND NOT t.tgisinternal AND t.tgenabled <> 'D' "
        "ORDER BY t.tgname",
        {target.oid});
    for (const auto &row : triggers.rows)
        target.triggers.push_back({*row[0], *row[1], row[2]->empty() ? 'O' : (*row[2])[0]});
    if (!target.triggers.empty() && !opts.keep_triggers && !owner) {
        std::vector<std::string> names;
        for (const auto &t : target.triggers) names.push_back(t.name);
        target.problems.push_back(
            "it has triggers (" + joined(names) +
            ") that the restore turns off for the load, which takes its owner: restore as the "
            "owner, or with --keep-triggers to let them fire");
    }
}

// TRUNCATE refuses a table that a table left out of the restore references.
void check_references(db::Connection &conn, std::vector<Target> &targets) {
    const std::string restored = oid_array(targets);
    for (auto &t : targets) {
        if (t.oid.empty()) continue;
        auto r = conn.query(
            "SELECT DISTINCT c.conname::text, c.conrelid::regclass::text "
            "FROM pg_catalog.pg_constraint c "
            "WHERE c.contype = 'f' AND c.confrelid = $1::oid "
            "AND NOT (c.conrelid = ANY ($2::oid[])) ORDER BY 2, 1",
            {t.oid, restored});
        for (const auto &row : r.rows)
            t.problems.push_back("foreign key " + *row[0] + " of " + *row[1] +
                                 " references it, and " + *row[1] +
                                 " is not restored, so it cannot be emptied: restore " + *row[1] +
                                 " too (--pg-table)");
    }
}

// How each of the table's sequences is put back: through the target column's own sequence
// (the recorded name depends on the source's search_path, the column does not).
void check_sequences(db::Connection &conn, Target &target) {
    for (const auto &s : target.table->sequences) {
        auto r = conn.query(
            "SELECT q.seqrelid::text, q.seqrelid::regclass::text, "
            "       pg_catalog.pg_has_role(c.relowner, 'USAGE'), "
            "       pg_catalog.has_sequence_privilege(q.seqrelid, 'UPDATE'), "
            "       q.seqincrement::text, q.seqmin::text, q.seqmax::text "
            "FROM pg_catalog.pg_sequence q JOIN pg_catalog.pg_class c ON c.oid = q.seqrelid "
            "WHERE q.seqrelid = coalesce(pg_catalog.pg_get_serial_sequence($1, $2)::regclass, "
            "                            pg_catalog.to_regclass($3))",
            {target.regclass, s.column, s.name});
        if (r.rows.empty()) continue;  // the target's column has no sequence: nothing to set
        const auto &row = r.rows[0];
        SequenceReset reset{*row[0], *row[1], "", s.last_value, s.is_called};
        const SequenceRestart how = sequence_restart(s.last_value, s.is_called, std::stoll(*row[4]),
                                                     std::stoll(*row[5]), std::stoll(*row[6]));
        if (!how.in_range) {
            target.problems.push_back("sequence " + reset.name +
                                      " cannot take the backup's value " +
                                      std::to_string(s.last_value) + " (its range is " + *row[5] +
                                      " to " + *row[6] + ")");
            continue;
        }
        const bool owner = is_true(row[2]), can_update = is_true(row[3]);
        if (owner && !how.restart_with.empty())
            reset.restart_with = how.restart_with;
        else if (!can_update)
            target.problems.push_back("you have no UPDATE privilege on sequence " + reset.name +
                                      (owner ? "" : " and do not own it"));
        target.sequences.push_back(reset);
    }
}

// Where each chosen table is in the target, whether it can be restored, and the load order:
// the one check both the dry run and the real run make (the real run again under its locks).
std::vector<Target> check_targets(db::Connection &conn, const archive::PgSource &source,
                                  const PgRestoreOptions &opts, bool fresh_tables) {
    std::vector<Target> targets;
    for (const auto &t : source.tables) {
        if (!selected(t, opts.tables)) continue;
        Target target;
        target.table = &t;
        auto r = conn.query(
            "SELECT c.oid::text, c.oid::regclass::text FROM pg_catalog.pg_class c "
            "WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', $1::text, $2::text)) "
            "AND c.relkind = 'r'",
            {t.schema, t.name});
        if (r.rows.empty()) {
            target.problems.push_back(
                "missing in the target: create it first (run the migrations)");
        } else {
            target.oid = *r.rows[0][0];
            target.regclass = *r.rows[0][1];
            check_columns(conn, target);
            check_access(conn, target, opts, fresh_tables);
            check_sequences(conn, target);
        }
        targets.push_back(std::move(target));
    }
    // Fresh tables (created by this restore) are empty and are not truncated.
    if (!fresh_tables) check_references(conn, targets);

    // Load order: a table after the tables it references (among those restored).
    std::map<std::string, std::set<std::string>> parents;  // oid -> referenced oids
    for (const auto &t : targets) {
        if (t.oid.empty()) continue;
        auto r = conn.query(
            "SELECT confrelid::text FROM pg_catalog.pg_constraint WHERE contype = 'f' "
            "AND conrelid = $1::oid AND confrelid <> conrelid",
            {t.oid});
        for (const auto &row : r.rows) parents[t.oid].insert(*row[0]);
    }
    std::vector<Target> ordered;
    std::set<std::string> placed;
    while (ordered.size() < targets.size()) {
        bool progress_made = false;
        for (const auto &t : targets) {
            if (placed.count(t.table->object.path)) continue;
            bool ready = true;
            for (const auto &p : parents[t.oid])
                for (const auto &other : targets)
                    if (other.oid == p && !placed.count(other.table->object.path)) ready = false;
            if (!ready) continue;
            ordered.push_back(t);
            placed.insert(t.table->object.path);
            progress_made = true;
        }
        if (!progress_made)  // a cycle: keep the backup's order for the rest
            for (const auto &t : targets)
                if (placed.insert(t.table->object.path).second) ordered.push_back(t);
    }
    return ordered;
}

// The plan's steps for `targets`, and every problem, one line each.
std::vector<PgRestoreStep> describe(db::Connection &conn, const std::vector<Target> &targets,
                                    bool create_from_ddl, const PgRestoreOptions &opts,
                                    std::string &problems) {
    std::vector<PgRestoreStep> steps;
    for (const auto &t : targets) {
        PgRestoreStep step;
        step.table = qualified(*t.table);
        step.backup_rows = t.table->rows;
        for (const auto &trigger : t.triggers) step.triggers.push_back(trigger.name);
        step.triggers_fire = opts.keep_triggers && !t.triggers.empty();
        if (!t.oid.empty())
            step.target_rows = std::stoll(
                *conn.query("SELECT pg_catalog.count(*) FROM ONLY " + t.regclass).rows[0][0]);
        // Before --with-ddl creates them, the tables are missing, as they should be.
        if (!t.problems.empty() && !(create_from_ddl && t.oid.empty())) {
            step.action = "cannot restore: " + joined(t.problems, "; ");
            for (const auto &p : t.problems) problems += "\n  " + step.table + ": " + p;
        } else if (create_from_ddl) {
            step.action = "create from the backup's table definitions, then load";
        } else {
            step.action = step.target_rows == 0
                              ? "load into the empty table"
                              : "replace " + std::to_string(step.target_rows) + " rows";
            if (!step.triggers.empty())
                step.action += (step.triggers_fire ? "; triggers fire: " : "; triggers off: ") +
                               joined(step.triggers);
        }
        steps.push_back(step);
    }
    return steps;
}

std::vector<LockedRelation> relations_of(const std::vector<Target> &targets) {
    std::vector<LockedRelation> out;
    for (const auto &t : targets) out.push_back({t.oid, t.regclass});
    return out;
}

// ALTER TABLE ... ENABLE/DISABLE TRIGGER, one trigger at a time, so each gets back exactly the
// state it had (origin, always or replica); inside the transaction, so a failed restore
// leaves every trigger as it was.
void set_triggers(db::Connection &conn, const std::vector<Target> &targets, bool enable) {
    for (const auto &t : targets)
        for (const auto &trigger : t.triggers) {
            const char *how = !enable                  ? "DISABLE"
                              : trigger.enabled == 'A' ? "ENABLE ALWAYS"
                              : trigger.enabled == 'R' ? "ENABLE REPLICA"
                                                       : "ENABLE";
            conn.exec("ALTER TABLE " + t.regclass + " " + how + " TRIGGER " + trigger.quoted_name);
        }
}

// The last changes before COMMIT: transactional restarts first (a failure there still
// changes nothing), then setval, which no rollback undoes, for the sequences it must do.
void reset_sequences(db::Connection &conn, const std::vector<Target> &targets,
                     const LockWait &wait) {
    std::string restarts;
    std::vector<LockedRelation> restarted;
    std::vector<const SequenceReset *> setvals;
    for (const auto &t : targets)
        for (const auto &s : t.sequences) {
            if (s.restart_with.empty()) {
                setvals.push_back(&s);
                continue;
            }
            restarts += "ALTER SEQUENCE " + s.name + " RESTART WITH " + s.restart_with + ";";
            restarted.push_back({s.oid, s.name});
        }
    // ALTER SEQUENCE waits for sessions that used the sequence in an open transaction.
    if (!restarts.empty())
        run_with_lock_retries(conn, restarts, restarted, "SHARE ROW EXCLUSIVE", wait);
    for (const auto *s : setvals)
        conn.query("SELECT pg_catalog.setval($1::regclass, $2::bigint, $3::bool)",
                   {s->oid, std::to_string(s->last_value), s->is_called ? "true" : "false"});
}

}  // namespace

SequenceRestart sequence_restart(int64_t last_value, bool is_called, int64_t increment, int64_t min,
                                 int64_t max) {
    SequenceRestart r;
    if (last_value < min || last_value > max) {
        r.in_range = false;
        return r;
    }
    const __int128 next = is_called ? static_cast<__int128>(last_value) + increment : last_value;
    if (next >= min && next <= max) r.restart_with = std::to_string(static_cast<int64_t>(next));
    return r;
}

PgRestorePlan restore_postgres(const PgRestoreOptions &opts, const archive::Manifest &manifest,
                               store::Store &store, const archive::BackupKey &key,
                               const ByteProgress &progress) {
    if (!manifest.postgres || manifest.postgres->tables.empty())
        throw UsageError("backup " + manifest.backup_id + " holds no PostgreSQL tables");
    const auto &source = *manifest.postgres;
    for (const auto &w : opts.tables) {
        int exact = 0, by_name = 0;
        for (const auto &t : source.tables) {
            exact += w == qualified(t);
            by_name += w == t.name;
        }
        if (!exact && !by_name)
            throw UsageError("--pg-table " + w + " is not in backup " + manifest.backup_id);
        if (!exact && by_name > 1)
            throw UsageError("--pg-table " + w + " names tables in several schemas of backup " +
                             manifest.backup_id + ": give schema.table");
    }

    db::Connection conn(opts.conninfo);
    // The COPY streams' text is in the encoding they were made in (format 1 backups: the
    // session's default, as then).
    if (source.client_encoding) use_client_encoding(conn, *source.client_encoding);
    PgRestorePlan plan;
    plan.target_database = *conn.query("SELECT pg_catalog.current_database()").rows[0][0];

    // The schema the data belongs to: a backup taken at migration X restores into a database
    // at migration X, or not at all.
    plan.target_schema_version = last_applied_migration(conn).value_or("");
    if (source.schema_version && *source.schema_version != plan.target_schema_version)
        throw RefusedBySafetyCheck(
            "backup " + manifest.backup_id + " was taken at migration " + *source.schema_version +
            ", but " + plan.target_database + " is at " +
            (plan.target_schema_version.empty() ? std::string("no applied migration")
                                                : "migration " + plan.target_schema_version) +
            ": bring the target to " + *source.schema_version + " first (pgmig up --to " +
            *source.schema_version + ", or pgmig down --to), then restore");

    // --with-ddl: the backup's own table definitions create the tables, but only in a
    // database that has none of them (the script creates them all).
    bool create_from_ddl = false;
    if (opts.with_ddl) {
        if (!source.ddl)
            throw UsageError("backup " + manifest.backup_id +
                             " has no table definitions: it was made without --with-ddl");
        std::vector<std::string> existing;
        bool some_missing = false;
        for (const auto &t : source.tables) {
            const bool exists =
                !conn.query(
                         "SELECT 1 WHERE pg_catalog.to_regclass(pg_catalog.format('%I.%I', "
                         "$1::text, $2::text)) IS NOT NULL",
                         {t.schema, t.name})
                     .rows.empty();
            if (exists)
                existing.push_back(qualified(t));
            else if (selected(t, opts.tables))
                some_missing = true;
        }
        if (existing.empty())
            create_from_ddl = true;
        else if (some_missing)
            throw RefusedBySafetyCheck(
                "--with-ddl creates tables only in a database that has none of the backup's "
                "tables, and " +
                plan.target_database + " has " + joined(existing) + "; nothing was changed");
    }

    std::vector<Target> ordered = check_targets(conn, source, opts, create_from_ddl);
    std::string problems;
    plan.steps = describe(conn, ordered, create_from_ddl, opts, problems);
    if (opts.dry_run) return plan;
    if (!problems.empty())
        throw RefusedBySafetyCheck("the target does not match the backup; nothing was changed:" +
                                   problems);

    db::Transaction tx(conn);
    // Under REPEATABLE READ a lock taken after the snapshot would not show later commits:
    // the checks below must see the tables as they are once locked.
    conn.exec("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    if (create_from_ddl) {
        std::set<std::string> schemas;
        for (const auto &t : source.tables) schemas.insert(t.schema);
        for (const auto &schema : schemas) {
            const std::string quoted =
                *conn.query("SELECT pg_catalog.quote_ident($1)", {schema}).rows.at(0).at(0);
            conn.exec("CREATE SCHEMA IF NOT EXISTS " + quoted);
        }
        std::string script;
        read_object(store, manifest, *source.ddl, key,
                    [&script](const unsigned char *data, size_t size) {
                        script.append(reinterpret_cast<const char *>(data), size);
                    });
        const std::string encoding =
            *conn.query("SELECT pg_catalog.current_setting('client_encoding')").rows.at(0).at(0);
        conn.exec(ddl_for_libpq(script));
        // pg_dump's script sets its own search_path and client_encoding: put ours back.
        conn.pin_search_path();
        use_client_encoding(conn, encoding);
    } else {
        lock_tables(conn, relations_of(ordered), "ACCESS EXCLUSIVE", opts.lock_wait);
    }
    // The same checks, now that nothing can change under the restore.
    ordered = check_targets(conn, source, opts, create_from_ddl);
    problems.clear();
    plan.steps = describe(conn, ordered, create_from_ddl, opts, problems);
    if (!problems.empty() && create_from_ddl)
        throw archive::ArchiveError(
            "the tables created from the backup's definitions do not match its data; nothing "
            "was changed:" +
            problems);
    if (!problems.empty())
        throw RefusedBySafetyCheck(
            "the target changed while the restore waited for its locks and no longer matches "
            "the backup; nothing was changed:" +
            problems);

    if (!opts.keep_triggers) set_triggers(conn, ordered, false);
    if (!create_from_ddl) {
        // ONLY: inheritance children of a restored table are other tables, left alone.
        std::string all;
        for (const auto &t : ordered) all += (all.empty() ? "ONLY " : ", ONLY ") + t.regclass;
        conn.exec("TRUNCATE " + all);
    }
    uint64_t bytes = 0;
    const auto load = [&] {
        for (size_t i = 0; i < ordered.size(); ++i) {
            const auto &t = ordered[i];
            conn.copy_in_start("COPY " + t.regclass + " FROM STDIN (FORMAT binary)");
            try {
                read_object(store, manifest, t.table->object, key,
                            [&](const unsigned char *data, size_t size) {
                                conn.copy_in_write(reinterpret_cast<const char *>(data), size);
                                bytes += size;
                                if (progress) progress(bytes);
                            });
            } catch (...) {
                conn.copy_in_abort("pgmig: the backup object could not be read");
                throw;
            }
            const uint64_t rows = conn.copy_in_finish();
            if (rows != t.table->rows)
                throw archive::ArchiveError("table " + qualified(*t.table) + ": loaded " +
                                            std::to_string(rows) + " rows, the manifest says " +
                                            std::to_string(t.table->rows));
            plan.steps[i].restored_rows = rows;
        }
    };
    // The triggers that fire (--keep-triggers) are the user's, written for the user's
    // search_path; the COPY statements name nothing but the tables.
    if (opts.keep_triggers)
        conn.with_user_search_path(load);
    else
        load();
    if (!opts.keep_triggers) set_triggers(conn, ordered, true);
    // Deferred constraints are checked now, not at COMMIT, so that nothing that can fail
    // comes after the sequences; deferred constraint triggers are the user's too.
    conn.with_user_search_path([&] { conn.exec("SET CONSTRAINTS ALL IMMEDIATE"); });
    reset_sequences(conn, ordered, opts.lock_wait);
    tx.commit();
    return plan;
}

}  // namespace pgmig::backup
