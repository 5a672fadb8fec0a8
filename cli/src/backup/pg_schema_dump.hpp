// The table definitions of a backup (create --with-ddl): `pg_dump --schema-only` of the
// backed-up tables from the backup's own snapshot, stored as one more encrypted object, so
// a restore can create the tables in a database that was never migrated.
#pragma once

#include "archive/manifest.hpp"
#include "store/store.hpp"

#include <string>
#include <vector>

namespace pgmig::backup {

// Runs pg_dump with the connection given through its environment (never in argv, where
// other users could read a password), `--snapshot` set to the exported snapshot, one `-t`
// per table (schema.table, quoted by the server) and the script in UTF-8 (--encoding, as the
// data), and stores it as `<backup_id>/<path>`.
archive::ObjectEntry dump_schema(const std::string &conninfo, const std::string &snapshot,
                                 const std::vector<std::string> &quoted_tables, store::Store &store,
                                 const std::string &backup_id, const std::string &path,
                                 const archive::BackupKey &backup_key);

// The script to run through libpq: pg_dump's psql meta-commands (\restrict, \unrestrict,
// \connect) dropped, as they are not SQL.
std::string ddl_for_libpq(const std::string &pg_dump_script);

}  // namespace pgmig::backup
