#include "backup/pg_backup.hpp"

#include "backup/object_io.hpp"
#include "backup/pg_schema_dump.hpp"
#include "backup/pg_session.hpp"
#include "backup/schema_version.hpp"
#include "backup/table_locks.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>

namespace pgmig::backup {

namespace {

struct TableJob {
    std::string oid;
    std::string regclass;  // quoted by the server
    uint64_t size_bytes = 0;
    archive::PgTable table;
};

// Snapshot ids look like 00000003-0000001B-1; anything else is refused rather than pasted.
bool is_snapshot_id(const std::string &s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '-') return false;
    return true;
}

// The session is in UTF-8, so the server converts every name; checked anyway before any
// data moves, because the manifest (JSON) written at the very end holds nothing else.
void require_utf8_names(const archive::PgTable &t) {
    std::vector<std::string> names = {t.schema, t.name};
    for (const auto &c : t.columns) names.insert(names.end(), {c.name, c.type});
    for (const auto &s : t.sequences) names.push_back(s.name);
    for (const auto &n : names)
        if (!archive::is_utf8(n))
            throw std::runtime_error("table " + t.schema + "." + t.name +
                                     ": a name is not valid UTF-8 although the session's "
                                     "client_encoding is UTF8; nothing was backed up");
}

std::vector<TableJob> choose_tables(db::Connection &conn, const PgBackupOptions &opts) {
    std::vector<std::string> oids;
    for (const auto &t : opts.tables) {
        // As typed by the user: resolved with the user's search_path.
        const auto oid = conn.resolve_relation(t);
        auto r = oid ? conn.query(
                           "SELECT c.oid::text, c.relkind::text FROM pg_class c "
                           "WHERE c.oid = $1::oid",
                           {*oid})
                     : db::Result();
        if (r.rows.empty()) throw UsageError("--pg-table " + t + ": no such table");
        if (*r.rows[0][1] != "r") throw UsageError("--pg-table " + t + " is not a plain table");
        oids.push_back(*r.rows[0][0]);
    }
    for (const auto &s : opts.schemas) {
        auto r = conn.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", {s});
        if (r.rows.empty()) throw UsageError("--pg-schema " + s + ": no such schema");
    }
    // Everything that holds user data: plain tables (partitions included, their parents
    // hold nothing), outside the system schemas, pg_migrate's own, and extension members.
    std::string list = "{";
    for (size_t i = 0; i < oids.size(); ++i) list += (i ? "," : "") + oids[i];
    list += "}";
    std::string schemas = "{";
    for (size_t i = 0; i < opts.schemas.size(); ++i) {
        std::string v;
        for (char ch : opts.schemas[i]) {
            if (ch == '"' || ch == '\\') v += '\\';
            v += ch;
        }
        schemas += std::string(i ? "," : "") + "\"" + v + "\"";
    }
    schemas += "}";
    const bool everything = opts.tables.empty() && opts.schemas.empty();
    auto r = conn.query(
        "SELECT c.oid::text, c.oid::regclass::text, n.nspname, c.relname, "
        "       pg_relation_size(c.oid)::text "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
        "  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_migrate', "
        "                        'pg_migrate_snapshots') "
        "  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
        "  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
        "                  AND d.objid = c.oid AND d.deptype = 'e') "
        "  AND ($1::bool OR c.oid = ANY ($2::oid[]) OR n.nspname = ANY ($3::text[])) "
        "ORDER BY n.nspname, c.relname",
        {std::string(everything ? "true" : "false"), list, schemas});
    if (r.rows.empty()) throw UsageError("no tables to back up in this database");
    // As pg_dump does: ACCESS SHARE locks held to the end keep TRUNCATE and table rewrites
    // (which are not MVCC-safe) from emptying or reshaping a table before its worker copies
    // it, and keep the columns recorded below true for the data.
    std::vector<LockedRelation> relations;
    for (const auto &row : r.rows) relations.push_back({*row[0], *row[1]});
    lock_tables(conn, relations, "ACCESS SHARE", LockWait{});
    std::vector<TableJob> jobs;
    for (const auto &row : r.rows) {
        TableJob j;
        j.oid = *row[0];
        j.regclass = *row[1];
        j.table.schema = *row[2];
        j.table.name = *row[3];
        j.size_bytes = std::stoull(*row[4]);
        auto cols = conn.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
            "       pg_get_serial_sequence($2, a.attname) "
            "FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 "
            "AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
            {j.oid, j.regclass});
        for (const auto &c : cols.rows) {
            j.table.columns.push_back({*c[0], *c[1]});
            if (c[2]) {
                // The name comes quoted from pg_get_serial_sequence; regclass checks it.
                const std::string seq_name =
                    *conn.query("SELECT $1::regclass::text", {*c[2]}).rows[0][0];
                auto seq = conn.query("SELECT last_value::text, is_called::text FROM " + seq_name);
                j.table.sequences.push_back({seq_name, *c[0], std::stoll(*seq.rows[0][0]),
                                             seq.rows[0][1] == db::Value("true")});
            }
        }
        require_utf8_names(j.table);
        jobs.push_back(std::move(j));
    }
    return jobs;
}

}  // namespace

archive::PgSource backup_postgres(const PgBackupOptions &opts, store::Store &store,
                                  const std::string &backup_id, const archive::BackupKey &key,
                                  const ByteProgress &progress) {
    db::Connection coordinator(opts.conninfo);
    use_client_encoding(coordinator, kBackupClientEncoding);
    coordinator.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const std::string snapshot = *coordinator.query("SELECT pg_export_snapshot()").rows.at(0).at(0);
    if (!is_snapshot_id(snapshot)) throw std::runtime_error("unexpected snapshot id " + snapshot);

    archive::PgSource source;
    auto info = coordinator.query("SELECT current_setting('server_version'), current_database()");
    source.server_version = *info.rows[0][0];
    source.database = *info.rows[0][1];
    source.client_encoding = kBackupClientEncoding;
    source.schema_version = last_applied_migration(coordinator);
    {
        // The function lives in the extension's schema, which need not be on the path.
        auto fn = coordinator.query(
            "SELECT p.oid::regprocedure::text FROM pg_extension e "
            "JOIN pg_proc p ON p.pronamespace = e.extnamespace "
            "WHERE e.extname = 'pg_migrate' AND p.proname = 'migrate_schema_fingerprint' "
            "AND p.pronargs = 0 AND has_function_privilege(p.oid, 'EXECUTE')");
        if (!fn.rows.empty()) {
            std::string call = *fn.rows[0][0];  // "schema.migrate_schema_fingerprint()"
            auto f = coordinator.query("SELECT md5(" + call + "::text)");
            if (!f.rows.empty() && f.rows[0][0]) source.schema_fingerprint = f.rows[0][0];
        }
    }

    std::vector<TableJob> jobs = choose_tables(coordinator, opts);
    // Largest first, so the last worker to finish is not stuck with the biggest table.
    std::vector<size_t> order(jobs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&jobs](size_t a, size_t b) {
        return jobs[a].size_bytes > jobs[b].size_bytes;
    });
    for (size_t i = 0; i < jobs.size(); ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "pg/%04zu.obj", i + 1);
        jobs[i].table.object.path = name;
    }

    if (opts.with_ddl) {
        std::vector<std::string> names;
        for (const auto &j : jobs)
            names.push_back(quoted_name(coordinator, j.table.schema, j.table.name));
        source.ddl =
            dump_schema(opts.conninfo, snapshot, names, store, backup_id, "pg/schema.sql.obj", key);
    }
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> bytes{0};
    std::atomic<bool> stop{false};
    std::mutex error_mutex;
    std::exception_ptr first_error;
    const int workers = std::max(1, std::min<int>(opts.jobs, static_cast<int>(jobs.size())));
    // Multithreaded zstd only where it was measured to help (docs/benchmarks.md): at level 3
    // the server's COPY is the bottleneck and zstd threads cost 10%; from level 6 on,
    // compression dominates and two zstd threads cut the time by a third. With -j N the
    // workers already use the cores.
    const int zstd_workers =
        opts.zstd_level >= 6 && workers == 1 && std::thread::hardware_concurrency() >= 2 ? 2 : 0;
    std::mutex progress_mutex;
    auto work = [&]() {
        try {
            db::Connection conn(opts.conninfo);
            use_client_encoding(conn, kBackupClientEncoding);
            conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            conn.exec("SET TRANSACTION SNAPSHOT '" + snapshot + "'");
            for (;;) {
                if (stop) return;
                const size_t n = next++;
                if (n >= order.size()) break;
                TableJob &job = jobs[order[n]];
                StoredObjectWriter out(store, backup_id, job.table.object.path, key,
                                       opts.zstd_level, zstd_workers);
                job.table.rows = conn.copy_out(
                    "COPY " + job.regclass + " TO STDOUT (FORMAT binary)",
                    [&](const char *data, size_t size) {
                        if (stop) throw std::runtime_error("stopped: another worker failed");
                        out.write(data, size);
                        const uint64_t total = bytes += size;
                        if (progress) {
                            std::lock_guard<std::mutex> lock(progress_mutex);
                            progress(total);
                        }
                    });
                job.table.object = out.finish();
            }
            conn.exec("COMMIT");
        } catch (...) {
            stop = true;
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!first_error) first_error = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    try {
        for (int i = 1; i < workers; ++i) threads.emplace_back(work);
    } catch (...) {  // no thread: stop the ones started, then report
        stop = true;
        for (auto &t : threads) t.join();
        throw;
    }
    work();
    for (auto &t : threads) t.join();
    if (first_error) std::rethrow_exception(first_error);
    coordinator.exec("COMMIT");
    for (auto &j : jobs) source.tables.push_back(std::move(j.table));
    return source;
}

}  // namespace pgmig::backup
