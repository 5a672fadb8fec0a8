#include "backup/pg_restore.hpp"

#include "backup/object_io.hpp"
#include "backup/pg_schema_dump.hpp"
#include "backup/schema_version.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pgmig::backup {

namespace {

struct Target {
    const archive::PgTable *table = nullptr;
    std::string oid;       // empty when missing
    std::string regclass;  // quoted by the server
    std::string problem;   // why it cannot be restored
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

}  // namespace

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
    PgRestorePlan plan;
    plan.target_database = *conn.query("SELECT current_database()").rows[0][0];

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

    // Where each chosen table is in the target, whether it matches, and the load order.
    auto resolve = [&]() {
        std::vector<Target> targets;
        for (const auto &t : source.tables) {
            if (!selected(t, opts.tables)) continue;
            Target target;
            target.table = &t;
            auto r = conn.query(
                "SELECT c.oid::text, c.oid::regclass::text FROM pg_class c "
                "WHERE c.oid = to_regclass(format('%I.%I', $1::text, $2::text)) AND c.relkind = "
                "'r'",
                {t.schema, t.name});
            if (r.rows.empty()) {
                target.problem = "missing in the target: create it first (run the migrations)";
            } else {
                target.oid = *r.rows[0][0];
                target.regclass = *r.rows[0][1];
                auto cols = conn.query(
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
                    "AND a.attgenerated = '' ORDER BY a.attnum",
                    {target.oid});
                std::vector<archive::PgColumn> live;
                for (const auto &c : cols.rows) live.push_back({*c[0], *c[1]});
                if (live.size() != t.columns.size()) {
                    target.problem = "has " + std::to_string(live.size()) +
                                     " columns, the backup " + std::to_string(t.columns.size());
                } else {
                    for (size_t i = 0; i < live.size() && target.problem.empty(); ++i)
                        if (live[i].name != t.columns[i].name || live[i].type != t.columns[i].type)
                            target.problem = "column " + std::to_string(i + 1) + " is " +
                                             live[i].name + " " + live[i].type +
                                             " in the target, " + t.columns[i].name + " " +
                                             t.columns[i].type + " in the backup";
                }
            }
            targets.push_back(target);
        }

        // Load order: a table after the tables it references (among those restored).
        std::map<std::string, std::set<std::string>> parents;  // oid -> referenced oids
        for (const auto &t : targets) {
            if (t.oid.empty()) continue;
            auto r = conn.query(
                "SELECT confrelid::text FROM pg_constraint WHERE contype = 'f' AND conrelid = "
                "$1::oid "
                "AND confrelid <> conrelid",
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
                        if (other.oid == p && !placed.count(other.table->object.path))
                            ready = false;
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
    };
    std::vector<Target> ordered = resolve();

    // --with-ddl: the backup's own table definitions create the tables, but only in a
    // database that has none of them (the script creates them all).
    bool create_from_ddl = false;
    if (opts.with_ddl) {
        if (!source.ddl)
            throw UsageError("backup " + manifest.backup_id +
                             " has no table definitions: it was made without --with-ddl");
        std::string existing;
        for (const auto &t : source.tables)
            if (conn.query("SELECT 1 WHERE to_regclass(format('%I.%I', $1::text, $2::text)) IS "
                           "NOT NULL",
                           {t.schema, t.name})
                    .rows.size())
                existing += (existing.empty() ? "" : ", ") + qualified(t);
        if (existing.empty())
            create_from_ddl = true;
        else if (std::any_of(ordered.begin(), ordered.end(),
                             [](const Target &t) { return t.oid.empty(); }))
            throw RefusedBySafetyCheck(
                "--with-ddl creates tables only in a database that has none of the backup's "
                "tables, and " +
                plan.target_database + " has " + existing + "; nothing was changed");
    }

    std::string problems;
    for (const auto &t : ordered) {
        PgRestoreStep step;
        step.table = qualified(*t.table);
        step.backup_rows = t.table->rows;
        if (!t.oid.empty())
            step.target_rows =
                std::stoll(*conn.query("SELECT count(*) FROM " + t.regclass).rows[0][0]);
        if (create_from_ddl) {
            step.action = "create from the backup's table definitions, then load";
        } else if (!t.problem.empty()) {
            step.action = "cannot restore: " + t.problem;
            problems += "\n  " + step.table + ": " + t.problem;
        } else {
            step.action = step.target_rows == 0
                              ? "load into the empty table"
                              : "replace " + std::to_string(step.target_rows) + " rows";
        }
        plan.steps.push_back(step);
    }
    if (!problems.empty() && !opts.dry_run)
        throw RefusedBySafetyCheck("the target does not match the backup; nothing was changed:" +
                                   problems);
    if (opts.dry_run) return plan;

    db::Transaction tx(conn);
    if (create_from_ddl) {
        std::set<std::string> schemas;
        for (const auto &t : source.tables) schemas.insert(t.schema);
        for (const auto &schema : schemas) {
            const std::string quoted =
                *conn.query("SELECT quote_ident($1)", {schema}).rows.at(0).at(0);
            conn.exec("CREATE SCHEMA IF NOT EXISTS " + quoted);
        }
        std::string script;
        read_object(store, manifest.backup_id + "/" + source.ddl->path, key, *source.ddl,
                    [&script](const unsigned char *data, size_t size) {
                        script.append(reinterpret_cast<const char *>(data), size);
                    });
        conn.exec(ddl_for_libpq(script));
        // pg_dump's script empties search_path for its session: put ours back.
        conn.exec("RESET search_path");
        ordered = resolve();
        for (const auto &t : ordered)
            if (!t.problem.empty())
                throw archive::ArchiveError("table " + qualified(*t.table) +
                                            " created from the backup's definitions " + t.problem);
    }
    std::string all;
    for (const auto &t : ordered) all += (all.empty() ? "" : ", ") + t.regclass;
    conn.exec("TRUNCATE " + all);
    uint64_t bytes = 0;
    for (size_t i = 0; i < ordered.size(); ++i) {
        const auto &t = ordered[i];
        conn.copy_in_start("COPY " + t.regclass + " FROM STDIN (FORMAT binary)");
        try {
            read_object(store, manifest.backup_id + "/" + t.table->object.path, key,
                        t.table->object, [&](const unsigned char *data, size_t size) {
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
        for (const auto &s : t.table->sequences)
            // The target's own sequence for the column: the recorded name depends on
            // the source's search_path, the column does not.
            conn.query(
                "SELECT setval(coalesce(pg_get_serial_sequence($1, $2)::regclass, "
                "to_regclass($3)), $4::bigint, $5::bool)",
                {t.regclass, s.column, s.name, std::to_string(s.last_value),
                 s.is_called ? "true" : "false"});
    }
    tx.commit();
    return plan;
}

}  // namespace pgmig::backup
