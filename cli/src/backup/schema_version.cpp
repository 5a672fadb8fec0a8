#include "backup/schema_version.hpp"

#include "db/connection.hpp"

namespace pgmig::backup {

std::optional<std::string> last_applied_migration(db::Connection &conn) {
    auto ext = conn.query(
        "SELECT has_table_privilege('pg_migrate.migration', 'SELECT') FROM pg_extension "
        "WHERE extname = 'pg_migrate'");
    if (ext.rows.empty() || ext.rows[0][0] != db::Value("t")) return std::nullopt;
    auto v = conn.query(
        "SELECT version FROM pg_migrate.migration WHERE state = 'applied' "
        "ORDER BY version_order DESC LIMIT 1");
    if (v.rows.empty()) return std::nullopt;
    return v.rows[0][0];
}

}  // namespace pgmig::backup
