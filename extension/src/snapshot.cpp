// Table snapshots: snapshot_create(), snapshot_verify(), snapshot_restore().
// (snapshot_list, snapshot_drop and snapshot_prune are SQL/PL/pgSQL in the install script.)
#include "execution_log.hpp"
#include "pg/arguments.hpp"
#include "pg/error.hpp"
#include "pg/result_rows.hpp"
#include "pg/row_trigger.hpp"
#include "pg/session_limits.hpp"
#include "pg/spi.hpp"
#include "pg/table_copy.hpp"
#include "snapshot.hpp"
#include "snapshot_context.hpp"

#include <chrono>

namespace pgm {

namespace {

// pg_migrate.snapshot is written only by the functions in this file: a trigger refuses every
// INSERT and UPDATE made while no CatalogWrite is alive. Roles with the documented grants
// may delete rows (a snapshot that vanishes is refused, not trusted), never forge them.
int catalog_writes = 0;

class CatalogWrite {
  public:
    CatalogWrite() { ++catalog_writes; }
    ~CatalogWrite() { --catalog_writes; }
    CatalogWrite(const CatalogWrite &) = delete;
    CatalogWrite &operator=(const CatalogWrite &) = delete;
};

// One statement that writes the catalog row, and nothing else, under CatalogWrite.
pg::QueryResult write_catalog(const char *sql, const std::vector<pg::Value> &params) {
    CatalogWrite allowed;
    return pg::query(sql, params);
}

struct Snapshot {
    std::string id, source_schema, source_table, source_oid, snapshot_table, columns, checksum;
    std::string row_count;
    pg::Value snapshot_oid;  // recorded since 0.4.0; NULL for older snapshots
};

Oid oid_of(const std::optional<std::string> &text) {
    return text ? static_cast<Oid>(std::stoul(*text)) : InvalidOid;
}

Snapshot load_snapshot(long id, bool for_update) {
    auto r = pg::query(for_update
                           ? "SELECT id, source_schema, source_table, source_oid, snapshot_table, "
                             "       columns::text, checksum, row_count, snapshot_oid "
                             "  FROM pg_migrate.snapshot WHERE id = $1::bigint FOR UPDATE"
                           : "SELECT id, source_schema, source_table, source_oid, snapshot_table, "
                             "       columns::text, checksum, row_count, snapshot_oid "
                             "  FROM pg_migrate.snapshot WHERE id = $1::bigint",
                       {std::to_string(id)});
    if (r.rows.empty())
        throw pg::UserError("42704", "snapshot " + std::to_string(id) + " does not exist", "",
                            "snapshot_list() shows the snapshots there are.");
    const pg::Row &row = r.rows[0];
    Snapshot s;
    s.id = row[0].value_or("");
    s.source_schema = row[1].value_or("");
    s.source_table = row[2].value_or("");
    s.source_oid = row[3].value_or("0");
    s.snapshot_table = row[4].value_or("");
    s.columns = row[5].value_or("[]");
    s.checksum = row[6].value_or("");
    s.row_count = row[7].value_or("0");
    s.snapshot_oid = row[8];
    return s;
}

// The snapshot's table, by the identity recorded when it was taken: the catalog row is
// data a role with the snapshot grants can edit, so its name alone proves nothing. The table
// must be the one created then (same OID, name), in pg_migrate_snapshots, and readable by the
// caller.
Oid snapshot_table_oid(const Snapshot &s) {
    auto r = pg::query(
        "SELECT c.oid, c.relname = $1::name AND n.nspname = 'pg_migrate_snapshots' AND "
        "       c.relkind = 'r', pg_catalog.has_table_privilege(c.oid, 'SELECT'), "
        "       c.relrowsecurity OR c.relhassubclass, "
        "       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a "
        "         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), "
        "       (SELECT pg_catalog.count(*) "
        "          FROM pg_catalog.jsonb_array_elements($3::pg_catalog.jsonb) WITH ORDINALITY "
        "               AS e(col, pos) "
        "          JOIN (SELECT a.attname, a.atttypid, a.atttypmod, "
        "                       pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos "
        "                  FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid "
        "                   AND a.attnum > 0 AND NOT a.attisdropped) a ON a.pos = e.pos "
        "         WHERE a.attname OPERATOR(pg_catalog.=) (e.col OPERATOR(pg_catalog.->>) "
        "'name')::pg_catalog.name "
        "           AND CASE WHEN e.col OPERATOR(pg_catalog.?) 'type_oid' "
        "                    THEN a.atttypid OPERATOR(pg_catalog.=) (e.col "
        "OPERATOR(pg_catalog.->>) 'type_oid')::pg_catalog.oid "
        "                    ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "OPERATOR(pg_catalog.=) (e.col OPERATOR(pg_catalog.->>) 'type') END), "
        "       pg_catalog.jsonb_array_length($3::pg_catalog.jsonb) "
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        " WHERE c.oid = coalesce($2::oid, pg_catalog.to_regclass(pg_catalog.format("
        "           'pg_migrate_snapshots.%I', $1::text))::oid)",
        {s.snapshot_table, s.snapshot_oid, s.columns});
    const auto damaged = [&s](const std::string &why) {
        return pg::UserError(
            "XX001", "snapshot " + s.id + " is damaged: " + why, "",
            "Drop the snapshot with snapshot_drop(" + s.id + ") and take a new one.");
    };
    if (r.rows.empty())
        throw damaged("its table pg_migrate_snapshots." + s.snapshot_table + " is missing");
    const pg::Row &t = r.rows[0];
    if (t[1].value_or("f") != "t")
        throw damaged("its catalog row names a table other than the one it created");
    if (t[2].value_or("f") != "t")
        throw pg::UserError("42501", "permission denied for the table of snapshot " + s.id, "",
                            "Only its owner (the role that took it) and roles granted SELECT "
                            "on it can read it.");
    // Its owner can alter it: policies or child tables would run code or add rows when it is
    // read, and another column type would run that type's functions before the checksum
    // could tell. Refused before a single row is read.
    if (t[3].value_or("t") != "f")
        throw damaged("its table was given row-level security or child tables since it was taken");
    if (t[4] != t[6] || t[5] != t[6])
        throw damaged("the columns of its table (names or types) changed since it was taken");
    return oid_of(t[0]);
}

long id_arg(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) throw pg::UserError("22004", "snapshot id must not be NULL");
    return static_cast<long>(PG_GETARG_INT64(0));
}

// The user triggers of pg_trigger t that fire now: enabled ALWAYS, or for this session's
// replication role.
constexpr const char *kFiresNow =
    "NOT t.tgisinternal AND (t.tgenabled OPERATOR(pg_catalog.=) 'A' OR t.tgenabled "
    "OPERATOR(pg_catalog.=) CASE pg_catalog.current_setting('session_replication_role') "
    "WHEN 'replica' THEN 'R' ELSE 'O' END)";

constexpr const char *kColumnsJson =
    "SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', a.attname, "
    "         'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'type_oid', a.atttypid) "
    "         ORDER BY a.attnum), "
    "'[]')::text "
    "  FROM pg_catalog.pg_attribute a "
    " WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped";

Datum snapshot_create_impl(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) throw pg::UserError("22004", "the table to snapshot must not be NULL");
    const Oid rel = PG_GETARG_OID(0);
    const auto label = pg::text_arg(fcinfo, 1);
    const auto start = std::chrono::steady_clock::now();

    pg::spi_connect();
    auto info = pg::query(
        "SELECT c.relkind, n.nspname, c.relname, c.oid::regclass::text "
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        " WHERE c.oid = $1::oid",
        {std::to_string(rel)});
    if (info.rows.empty())
        throw pg::UserError("42P01",
                            "relation with OID " + std::to_string(rel) + " does not exist");
    const std::string relkind = info.rows[0][0].value_or("");
    const std::string schema = info.rows[0][1].value_or("");
    const std::string table = info.rows[0][2].value_or("");
    const std::string display = info.rows[0][3].value_or("");
    if (relkind != "r")
        throw pg::UserError(
            "42809", "cannot snapshot \"" + display + "\": it is not an ordinary table",
            relkind == "p" ? "Partitioned tables are not supported yet; snapshot each partition."
                           : "Only tables hold rows to snapshot.");
    if (schema == "pg_migrate_snapshots" || schema == "pg_migrate" || schema == "pg_catalog")
        throw pg::UserError("42809", "cannot snapshot \"" + display +
                                         "\": it belongs to pg_migrate or the system catalog");
    if (pg::query("SELECT pg_catalog.has_table_privilege($1::oid, 'SELECT')", {std::to_string(rel)})
            .rows.at(0)
            .at(0)
            .value_or("f") != "t")
        throw pg::UserError("42501", "permission denied for table " + display,
                            "snapshot_create() copies every row: it needs SELECT on the table.");
    if (pg::row_security_applies(rel))
        throw pg::UserError(
            "42501", "cannot snapshot \"" + display + "\": row-level security applies to you on it",
            "A snapshot copies every row of the table, and its policies hide some rows from you "
            "(or would, with row_security on).",
            "Take the snapshot as the table's owner or as a role with BYPASSRLS.");

    const std::string id = pg::query("SELECT pg_catalog.nextval('pg_migrate.snapshot_id_seq')")
                               .rows.at(0)
                               .at(0)
                               .value();
    // The snapshot table's name: s<id>_<table>, cut to PostgreSQL's 63-byte limit. Roles
    // that take snapshots may create in pg_migrate_snapshots, so the name can be taken ahead
    // of time (a table or type squatting on the next id); then a random part is added until
    // the name is free, so no role can make someone else's snapshot fail.
    std::string name;
    for (int attempt = 0; name.empty(); ++attempt) {
        if (attempt == 8)
            throw pg::UserError(
                "42P07",
                "cannot snapshot \"" + display + "\": no free table name in pg_migrate_snapshots",
                "",
                "Drop what squats on names there (snapshot_list() shows "
                "the snapshots' own tables).");
        auto candidate = pg::query(
            "SELECT n, NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.relname "
            "OPERATOR(pg_catalog.=) n AND c.relnamespace OPERATOR(pg_catalog.=) "
            "'pg_migrate_snapshots'::pg_catalog.regnamespace) "
            "   AND NOT EXISTS (SELECT FROM pg_catalog.pg_type t WHERE t.typname "
            "OPERATOR(pg_catalog.=) n AND t.typnamespace OPERATOR(pg_catalog.=) "
            "'pg_migrate_snapshots'::pg_catalog.regnamespace) "
            "  FROM (SELECT pg_catalog.left(CASE WHEN $3::int OPERATOR(pg_catalog.=) 0 "
            "                THEN pg_catalog.format('s%s_%s', $1::text, $2::text) "
            "                ELSE pg_catalog.format('s%s_%s_%s', $1::text, "
            "pg_catalog.left(pg_catalog.md5(pg_catalog.gen_random_uuid()::text), 8), $2::text) "
            "END, 63)::pg_catalog.name AS n) x",
            {id, table, std::to_string(attempt)});
        if (candidate.rows.at(0).at(1).value_or("f") == "t")
            name = candidate.rows.at(0).at(0).value();
    }
    const std::string ddl = pg::query(
                                "SELECT pg_catalog.format('CREATE TABLE pg_migrate_snapshots.%I "
                                "(LIKE %s)', $1::text, $2::oid::regclass)",
                                {name, std::to_string(rel)})
                                .rows.at(0)
                                .at(0)
                                .value();
    pg::query(ddl.c_str());
    const Oid target = oid_of(
        pg::query("SELECT pg_catalog.to_regclass(pg_catalog.format('pg_migrate_snapshots.%I', "
                  "$1::text))::oid",
                  {name})
            .rows.at(0)
            .at(0));

    const pg::TableChecksum sum = pg::copy_with_checksum(rel, target);
    const std::string columns =
        pg::query(kColumnsJson, {std::to_string(rel)}).rows.at(0).at(0).value_or("[]");
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    write_catalog(
        "INSERT INTO pg_migrate.snapshot (id, source_schema, source_table, source_oid, "
        "snapshot_table, "
        "  columns, row_count, checksum, size_bytes, label, migration_version, duration_ms, "
        "  snapshot_oid) "
        "VALUES ($1::bigint, $2, $3, $4::oid, $5, $6::jsonb, $7::bigint, $8, "
        "  pg_catalog.pg_total_relation_size($9::oid), $10, $11, $12::numeric, $9::oid)",
        {id, schema, table, std::to_string(rel), name, columns, std::to_string(sum.rows),
         sum.to_string(), std::to_string(target), label,
         current_migration_version().empty() ? pg::Value() : pg::Value(current_migration_version()),
         format_duration_ms(ms)});
    pg::spi_finish();
    PG_RETURN_INT64(std::stol(id));
}

struct VerifyOutcome {
    bool ok;
    std::string actual_checksum;
    uint64 actual_rows;
};

VerifyOutcome verify(const Snapshot &s) {
    const pg::TableChecksum sum = pg::table_checksum(snapshot_table_oid(s));
    const bool ok = sum.to_string() == s.checksum;
    write_catalog(
        "UPDATE pg_migrate.snapshot SET verified_at = pg_catalog.now(), verify_ok = $2::bool WHERE "
        "id = $1::bigint",
        {s.id, std::string(ok ? "true" : "false")});
    return {ok, sum.to_string(), sum.rows};
}

Datum snapshot_verify_impl(FunctionCallInfo fcinfo) {
    const long id = id_arg(fcinfo);
    pg::spi_connect();
    const Snapshot s = load_snapshot(id, false);
    const VerifyOutcome v = verify(s);
    std::string message = v.ok ? "rows and checksum match"
                               : (std::to_string(v.actual_rows) == s.row_count
                                      ? "the rows' content differs from when the snapshot was taken"
                                      : "the snapshot holds " + std::to_string(v.actual_rows) +
                                            " rows, " + s.row_count + " were snapshotted");
    pg::spi_finish();
    pg::return_rows(
        fcinfo, {{s.id, std::string(v.ok ? "t" : "f"), s.row_count, std::to_string(v.actual_rows),
                  s.checksum, v.actual_checksum, message}});
    return (Datum)0;
}

// Differences between the snapshotted columns and the table's current ones, for the error.
std::string column_differences(const std::string &snapshotted, Oid rel) {
    auto r = pg::query(
        "WITH then_ AS (SELECT c->>'name' AS name, c->>'type' AS type, o AS pos "
        "                 FROM pg_catalog.jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(c, "
        "o)), "
        "     now_ AS (SELECT a.attname::text AS name, pg_catalog.format_type(a.atttypid, "
        "a.atttypmod) AS type, "
        "                     pg_catalog.row_number() OVER (ORDER BY a.attnum) AS pos "
        "                FROM pg_catalog.pg_attribute a "
        "               WHERE a.attrelid = $2::oid AND a.attnum > 0 AND NOT a.attisdropped) "
        "SELECT pg_catalog.string_agg(d, '; ' ORDER BY d) FROM ( "
        "  SELECT pg_catalog.format('column %I is missing from the table', t.name) AS d "
        "    FROM then_ t WHERE NOT EXISTS (SELECT 1 FROM now_ n WHERE n.name = t.name) "
        "  UNION ALL SELECT pg_catalog.format('column %I was added to the table', n.name) "
        "    FROM now_ n WHERE NOT EXISTS (SELECT 1 FROM then_ t WHERE t.name = n.name) "
        "  UNION ALL SELECT pg_catalog.format('column %I changed type from %s to %s', n.name, "
        "t.type, n.type) "
        "    FROM now_ n JOIN then_ t USING (name) WHERE t.type <> n.type "
        "  UNION ALL SELECT pg_catalog.format('column %I moved from position %s to %s', n.name, "
        "t.pos, n.pos) "
        "    FROM now_ n JOIN then_ t USING (name) WHERE t.type = n.type AND t.pos <> n.pos "
        ") diffs",
        {snapshotted, std::to_string(rel)});
    return r.rows.at(0).at(0).value_or("");
}

}  // namespace

int64_t restore_snapshot(long id) {
    pg::spi_connect();
    // Above READ COMMITTED the transaction's snapshot predates the table lock taken below:
    // rows others commit in between would survive the restore unseen.
    if (!pg::at_read_committed())
        throw pg::UserError(
            "25000", "snapshot_restore() must run at the READ COMMITTED isolation level",
            "At REPEATABLE READ or SERIALIZABLE rows committed by other sessions after the "
            "transaction began would be kept, and the restore would still report success.",
            "Call it outside an explicit transaction, or after BEGIN ISOLATION LEVEL READ "
            "COMMITTED.");
    const Snapshot s = load_snapshot(id, true);
    const std::string display = s.source_schema + "." + s.source_table;
    auto found = pg::query(
        "SELECT c.oid, c.relkind, n.nspname, c.relispartition, c.relhassubclass "
        "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        " WHERE c.oid = pg_catalog.to_regclass(pg_catalog.format('%I.%I', $1::text, $2::text))",
        {s.source_schema, s.source_table});
    if (found.rows.empty())
        throw pg::UserError(
            "42P01", "cannot restore snapshot " + s.id + ": table " + display + " no longer exists",
            "",
            "Recreate the table with the snapshotted columns first, or restore the schema "
            "with migrate_rollback().");
    const Oid rel = oid_of(found.rows[0][0]);
    const std::string target_schema = found.rows[0][2].value_or("");
    // The catalog row is editable data: restore only into the very table it was taken of,
    // never into pg_migrate's or the system's.
    if (target_schema == "pg_catalog" || target_schema == "pg_migrate" ||
        target_schema == "pg_migrate_snapshots" || target_schema == "information_schema" ||
        found.rows[0][1].value_or("") != "r")
        throw pg::UserError("42809", "cannot restore snapshot " + s.id + " into " + display,
                            "Snapshots restore only into ordinary user tables.");
    if (std::to_string(rel) != s.source_oid)
        throw pg::UserError(
            "55000",
            "cannot restore snapshot " + s.id + ": " + display +
                " is not the table it was taken of",
            "The table was dropped and created again (or renamed) since the snapshot: its OID "
            "is " +
                std::to_string(rel) + ", the snapshot's " + s.source_oid + ".",
            "Restore the rows by hand from pg_migrate_snapshots." + s.snapshot_table +
                " if they still belong there.");
    if (pg::row_security_applies(rel))
        throw pg::UserError(
            "42501",
            "cannot restore snapshot " + s.id + ": row-level security applies to you on " + display,
            "A restore replaces every row; your policies hide some of them from you.",
            "Restore as the table's owner or as a role with BYPASSRLS.");
    // The rows come from the snapshot table, which its owner can edit: take them only when
    // the caller owns it, or its owner could have written this table itself. (Not "the
    // caller has the owner's rights": a superuser has everyone's.)
    const Oid snapshot_oid = snapshot_table_oid(s);
    // "Could have written": INSERT and DELETE on the table, with no policies of its own
    // hiding rows from that role (row-level security off, or the role exempt from it).
    auto trust = pg::query(
        "SELECT pg_catalog.pg_get_userbyid(c.relowner), "
        "       c.relowner OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles r "
        "                                           WHERE r.rolname OPERATOR(pg_catalog.=) "
        "current_user) "
        "    OR (pg_catalog.has_table_privilege(c.relowner, t.oid, 'INSERT') "
        "        AND pg_catalog.has_table_privilege(c.relowner, t.oid, 'DELETE') "
        "        AND (NOT t.relrowsecurity OR o.rolsuper OR o.rolbypassrls "
        "             OR (c.relowner OPERATOR(pg_catalog.=) t.relowner AND NOT "
        "t.relforcerowsecurity))), "
        "       pg_catalog.pg_has_role(c.relowner, t.relowner, 'USAGE'), "
        "       c.relowner OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles r "
        "                                           WHERE r.rolname OPERATOR(pg_catalog.=) "
        "current_user), "
        "       pg_catalog.pg_has_role(t.relowner, 'USAGE') "
        "  FROM pg_catalog.pg_class c, pg_catalog.pg_class t, pg_catalog.pg_roles o "
        " WHERE c.oid = $1::oid AND t.oid = $2::oid AND o.oid = c.relowner",
        {std::to_string(snapshot_oid), std::to_string(rel)});
    if (trust.rows.at(0).at(1).value_or("f") != "t")
        throw pg::UserError(
            "42501",
            "cannot restore snapshot " + s.id + ": its table is owned by " +
                trust.rows[0][0].value_or("?") + ", who cannot write " + display,
            "Its owner could have changed the snapshot's rows; restoring them as you would "
            "write them with your rights.",
            "Restore it as its owner, or take a snapshot of your own.");

    const VerifyOutcome v = verify(s);
    if (!v.ok)
        throw pg::UserError("XX001", "cannot restore snapshot " + s.id + ": it failed verification",
                            "expected " + s.checksum + ", found " + v.actual_checksum,
                            "The snapshot table was changed or damaged; it cannot be trusted.");
    const std::string diff = column_differences(s.columns, rel);
    if (!diff.empty())
        throw pg::UserError("55000",
                            "cannot restore snapshot " + s.id + ": the columns of " + display +
                                " changed since it was taken",
                            diff,
                            "Bring the table back to its snapshotted shape first (for example with "
                            "migrate_rollback()), then restore.");
    auto cascading = pg::query(
        "SELECT pg_catalog.string_agg(pg_catalog.format('%s on %s (ON DELETE %s)', con.conname, "
        "con.conrelid::regclass, "
        "         CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' "
        "              WHEN 'd' THEN 'SET DEFAULT' ELSE 'RESTRICT' END), ', ') "
        "  FROM pg_catalog.pg_constraint con "
        " WHERE con.contype = 'f' AND con.confrelid = $1::oid AND con.confdeltype IN ('c', 'n', "
        "'d', 'r')",
        {std::to_string(rel)});
    if (cascading.rows.at(0).at(0))
        throw pg::UserError(
            "55000",
            "cannot restore snapshot " + s.id + ": foreign keys that reference " + display +
                " would act on the deletion of its rows",
            *cascading.rows.at(0).at(0),
            "Restore replaces every row; referencing keys with ON DELETE CASCADE, SET NULL, "
            "SET DEFAULT or RESTRICT would change or block other tables. Snapshot and "
            "restore the referencing tables too, or change those constraints to NO ACTION.");

    pg::query(pg::query("SELECT pg_catalog.format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', "
                        "$1::oid::regclass)",
                        {std::to_string(rel)})
                  .rows.at(0)
                  .at(0)
                  .value()
                  .c_str());
    // User triggers do not fire: a restore rewinds data, it is not a business event. Only
    // the triggers enabled now are disabled, and each is enabled again in the mode it had
    // (ALWAYS and REPLICA triggers stay what they were). But the rows are the snapshot
    // owner's: they go in without triggers only when that role could itself have turned the
    // triggers off (it has the table owner's rights), and the caller can too. Otherwise the
    // restore is that role's writes, and the triggers fire as they would for them.
    const bool owner_may_skip = trust.rows.at(0).at(2).value_or("f") == "t";
    const bool caller_owns_snapshot = trust.rows.at(0).at(3).value_or("f") == "t";
    const bool skip_triggers = owner_may_skip && trust.rows.at(0).at(4).value_or("f") == "t";
    auto triggers = pg::query(
        skip_triggers ? "SELECT pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', "
                        "t.tgrelid::regclass, t.tgname), "
                        "       pg_catalog.format('ALTER TABLE %s ENABLE %s TRIGGER %I', "
                        "t.tgrelid::regclass, "
                        "         CASE t.tgenabled WHEN 'A' THEN 'ALWAYS' WHEN 'R' THEN 'REPLICA' "
                        "ELSE '' END, t.tgname) "
                        "  FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::oid AND NOT "
                        "t.tgisinternal AND t.tgenabled OPERATOR(pg_catalog.<>) 'D'"
                      : "SELECT NULL::text, NULL::text WHERE false",
        {std::to_string(rel)});
    if (!skip_triggers) {
        const auto firing = pg::query(
            (std::string("SELECT pg_catalog.string_agg(pg_catalog.quote_ident(t.tgname), ', ' "
                         "ORDER BY t.tgname) FROM pg_catalog.pg_trigger t WHERE t.tgrelid = "
                         "$1::oid AND ") +
             kFiresNow)
                .c_str(),
            {std::to_string(rel)});
        // Those triggers would run as the caller: rows of one role, code of the table's
        // owner, rights of a third (a superuser's, under migrate_rollback). Only the
        // snapshot's owner restores it then, and its writes fire them as its own would.
        // (A caller without the owner's rights restoring the owner's snapshot: the same.)
        if (firing.rows.at(0).at(0) && !caller_owns_snapshot)
            throw pg::UserError(
                "42501",
                "cannot restore snapshot " + s.id + ": its rows are " +
                    trust.rows[0][0].value_or("?") + "'s, and the triggers of " + display + " (" +
                    *firing.rows.at(0).at(0) + ") would fire for them with your rights",
                "The triggers cannot be turned off here (that needs the rights of the table's "
                "owner, for you and for the snapshot's owner), so the restore would be a write "
                "of " +
                    trust.rows[0][0].value_or("?") + "'s rows with your rights.",
                "Restore it as " + trust.rows[0][0].value_or("its owner") +
                    " (the triggers then fire as for its own writes), or take a snapshot of "
                    "your own.");
        if (firing.rows.at(0).at(0))
            pg::notice(
                "snapshot " + s.id + " is restored with the triggers of " + display + " firing (" +
                    *firing.rows.at(0).at(0) + ")",
                "You do not have the rights of the table's owner to turn them off: they run as "
                "for your own writes, with search_path pg_catalog, pg_temp.");
    }
    // What the table runs on the restore's DELETE and INSERT that its owner wrote: functions
    // and operators of its CHECK constraints, indexes, column expressions, column domains'
    // constraints, and the triggers that fire. Run by anyone but the owner, that is the
    // owner's code with the caller's rights (a superuser's, under migrate_rollback(): found
    // by review, a CHECK function made its owner superuser). Functions of the session's
    // login role (session_user) and of superusers are trusted, so are built-in ones.
    const std::string foreign_sql =
        "WITH RECURSIVE types(t) AS ("
        "   SELECT a.atttypid FROM pg_catalog.pg_attribute a "
        "    WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
        "   UNION SELECT ty.typbasetype FROM pg_catalog.pg_type ty JOIN types ON ty.oid = types.t "
        "    WHERE ty.typtype = 'd'), "
        " objs(classid, objid, what) AS ("
        "   SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid, "
        "          pg_catalog.format('constraint %I', c.conname) "
        "     FROM pg_catalog.pg_constraint c WHERE c.conrelid = $1::oid "
        "   UNION ALL SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, i.indexrelid, "
        "          pg_catalog.format('index %s', i.indexrelid::pg_catalog.regclass) "
        "     FROM pg_catalog.pg_index i WHERE i.indrelid = $1::oid "
        "   UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, d.oid, "
        "          pg_catalog.format('the expression of column %s', d.adnum) "
        "     FROM pg_catalog.pg_attrdef d WHERE d.adrelid = $1::oid "
        "   UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, c.oid, "
        "          pg_catalog.format('constraint %I of domain %s', c.conname, "
        "c.contypid::pg_catalog.regtype) "
        "     FROM pg_catalog.pg_constraint c JOIN types ON c.contypid = types.t "
        "   UNION ALL SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, t.oid, "
        "          pg_catalog.format('trigger %I', t.tgname) "
        "     FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1::oid AND NOT $2::bool AND " +
        std::string(kFiresNow) +
        "), "
        " code(what, owner, name) AS ("
        "   SELECT o.what, p.proowner, p.oid::pg_catalog.regprocedure::pg_catalog.text "
        "     FROM objs o JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = "
        "o.objid "
        "     JOIN pg_catalog.pg_proc p ON d.refclassid = "
        "'pg_catalog.pg_proc'::pg_catalog.regclass "
        "      AND p.oid = d.refobjid "
        "   UNION ALL SELECT o.what, op.oprowner, op.oid::pg_catalog.regoperator::pg_catalog.text "
        "     FROM objs o JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = "
        "o.objid "
        "     JOIN pg_catalog.pg_operator op ON d.refclassid = "
        "'pg_catalog.pg_operator'::pg_catalog.regclass AND op.oid = d.refobjid) "
        "SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%s (%s, of %s)', c.what, c.name, "
        "pg_catalog.pg_get_userbyid(c.owner)), ', '), "
        "       pg_catalog.pg_get_userbyid((SELECT relowner FROM pg_catalog.pg_class WHERE oid = "
        "$1::oid)) "
        "  FROM code c JOIN pg_catalog.pg_roles r ON r.oid = c.owner "
        // The session's login role (not current_user: code run in a session can SET ROLE to
        // whatever its session user may) and superusers own trusted code.
        " WHERE NOT r.rolsuper AND r.rolname OPERATOR(pg_catalog.<>) session_user";
    auto foreign_code = pg::query(
        foreign_sql.c_str(), {std::to_string(rel), std::string(skip_triggers ? "true" : "false")});
    if (foreign_code.rows.at(0).at(0))
        throw pg::UserError("42501",
                            "cannot restore snapshot " + s.id + " into " + display +
                                ": code of another role " + "would run with your rights",
                            "A restore inserts every row, which runs " +
                                *foreign_code.rows.at(0).at(0) +
                                "; written by roles other than the one this session logged in as "
                                "(and not superusers), it would run with this session's rights.",
                            "Restore it in a session logged in as the table's owner (" +
                                foreign_code.rows.at(0).at(1).value_or("?") +
                                "), not with SET ROLE, or take that code off the table first.");
    for (const auto &t : triggers.rows) pg::query(t.at(0).value().c_str());

    // One statement: the DELETE runs first and the INSERT (an unreferenced data-modifying
    // CTE) after it, so NO ACTION foreign keys that reference the table are checked once, at
    // the end, against the restored rows.
    const std::string restore_sql =
        pg::query(
            "SELECT pg_catalog.format('WITH restored AS (INSERT INTO %s (%s) OVERRIDING SYSTEM "
            "VALUE "
            "SELECT %s FROM ONLY pg_migrate_snapshots.%I) DELETE FROM ONLY %s', $1::oid::regclass, "
            "cols, "
            "cols, $2::text, "
            "$1::oid::regclass) "
            "  FROM (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY "
            "a.attnum) AS cols "
            "          FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 "
            "           AND NOT a.attisdropped AND a.attgenerated = '') c",
            {std::to_string(rel), s.snapshot_table})
            .rows.at(0)
            .at(0)
            .value();
    pg::query(restore_sql.c_str());
    for (const auto &t : triggers.rows) pg::query(t.at(1).value().c_str());

    const pg::TableChecksum after = pg::table_checksum(rel);
    if (after.to_string() != s.checksum)
        throw pg::UserError(
            "XX000",
            "snapshot " + s.id + " was restored but " + display +
                " does not match it; nothing was changed",
            "expected " + s.checksum + ", found " + after.to_string(),
            "Generated columns whose expression changed since the snapshot recompute "
            "differently; check the table's definition.");
    write_catalog(
        "UPDATE pg_migrate.snapshot SET restored_at = pg_catalog.now() WHERE id = $1::bigint",
        {s.id});
    pg::spi_finish();
    return static_cast<int64_t>(after.rows);
}

namespace {

Datum snapshot_restore_impl(FunctionCallInfo fcinfo) {
    refuse_inside_migration("snapshot_restore()");
    PG_RETURN_INT64(restore_snapshot(id_arg(fcinfo)));
}

Datum snapshot_row_guard_impl(FunctionCallInfo fcinfo) {
    const auto event = pg::row_trigger_event(fcinfo);
    if (!event) throw pg::UserError("39P01", "pg_migrate.snapshot_row_guard() is a row trigger");
    if (*event != pg::RowEvent::Delete && catalog_writes == 0)
        throw pg::UserError(
            "42501", "pg_migrate.snapshot rows are written only by the snapshot functions",
            "A snapshot's row records which table it copied, into which table and with which "
            "checksum; a restore trusts that record, so nobody may insert or change it.",
            "Take snapshots with snapshot_create(); drop them with snapshot_drop().");
    return pg::row_trigger_proceed(fcinfo);
}

}  // namespace

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_snapshot_create);
Datum pgm_snapshot_create(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::snapshot_create_impl);
}
PG_FUNCTION_INFO_V1(pgm_snapshot_verify);
Datum pgm_snapshot_verify(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::snapshot_verify_impl);
}
PG_FUNCTION_INFO_V1(pgm_snapshot_restore);
Datum pgm_snapshot_restore(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::snapshot_restore_impl);
}
PG_FUNCTION_INFO_V1(pgm_snapshot_row_guard);
Datum pgm_snapshot_row_guard(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::snapshot_row_guard_impl);
}
}
