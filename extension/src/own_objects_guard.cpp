// An event trigger that refuses DDL on pg_migrate's own objects from inside a running
// migration: dropping or altering the registry or the logs while the executor uses them
// ended in "cache lookup failed" or a row-type mismatch, with nothing logged.
#include "pg/error.hpp"
#include "pg/event_trigger.hpp"
#include "pg/spi.hpp"
#include "snapshot_context.hpp"

namespace pgm {

namespace {

Datum guard_own_objects_impl(FunctionCallInfo fcinfo) {
    const auto event_name = pg::event_trigger_event(fcinfo);
    if (!event_name)
        throw pg::UserError("39P01", "pg_migrate.guard_own_objects() is an event trigger");
    if (!user_script_is_running()) PG_RETURN_VOID();
    const std::string &event = *event_name;
    if (event == "ddl_command_start") {
        // DROP EXTENSION pg_migrate / DROP SCHEMA pg_migrate: refused before anything is
        // dropped (afterwards the executor's own tables are gone mid-call).
        if (auto dropped =
                pg::dropped_extension_or_schema(fcinfo, {"pg_migrate", "pg_migrate_snapshots"}))
            throw pg::UserError(
                "55006", "a migration may not change pg_migrate's own objects",
                "Migration " + current_migration_version() + " drops " + *dropped + ".",
                "Drop the extension outside migrations.");
        PG_RETURN_VOID();
    }
    pg::spi_connect();
    const char *sql =
        event == "sql_drop"
            ? "SELECT pg_catalog.string_agg(DISTINCT o.object_identity, ', ') "
              "  FROM pg_catalog.pg_event_trigger_dropped_objects() o "
              " WHERE o.schema_name IN ('pg_migrate', 'pg_migrate_snapshots') "
              "    OR (o.object_type = 'extension' AND o.object_identity = 'pg_migrate') "
              "    OR (o.object_type = 'schema' AND o.object_identity IN ('pg_migrate', "
              "        'pg_migrate_snapshots'))"
            : "SELECT pg_catalog.string_agg(DISTINCT c.object_identity, ', ') "
              "  FROM pg_catalog.pg_event_trigger_ddl_commands() c "
              " WHERE c.schema_name = 'pg_migrate' "
              "    OR (c.object_type = 'extension' AND c.object_identity = 'pg_migrate') "
              "    OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
              "                JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid "
              "               WHERE d.classid = c.classid AND d.objid = c.objid "
              "                 AND d.deptype = 'e' AND e.extname = 'pg_migrate')";
    auto r = pg::query(sql);
    pg::spi_finish();
    if (r.rows.at(0).at(0))
        throw pg::UserError(
            "55006", "a migration may not change pg_migrate's own objects",
            "Migration " + current_migration_version() + " changed " + *r.rows[0][0] + ".",
            "pg_migrate runs the migration and records it in those objects; change them with "
            "ALTER EXTENSION pg_migrate UPDATE, outside migrations.");
    PG_RETURN_VOID();
}

}  // namespace

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_guard_own_objects);
Datum pgm_guard_own_objects(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::guard_own_objects_impl);
}
}
