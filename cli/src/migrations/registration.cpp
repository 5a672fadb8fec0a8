#include "migrations/registration.hpp"

#include "checksum.hpp"

#include <stdexcept>

namespace pgmig::migrations {

void require_extension(db::Connection &conn) {
    auto r =
        conn.query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate'");
    if (r.rows.empty())
        throw std::runtime_error(
            "the pg_migrate extension is not installed in this database; run `pgmig init` (it "
            "needs a superuser, and the extension's files installed on the server)");
}

RegistrationCounts register_files(db::Connection &conn, const MigrationFolder &folder) {
    db::Transaction tx(conn);
    const RegistrationCounts counts = register_files_in_transaction(conn, folder);
    tx.commit();
    return counts;
}

RegistrationCounts register_files_in_transaction(db::Connection &conn,
                                                 const MigrationFolder &folder) {
    RegistrationCounts counts;
    for (const auto &m : folder.migrations) {
        auto r = conn.query("SELECT @extschema@.migrate_register($1, $2, $3, $4, $5)",
                            {m.version, m.name, m.up_sql, m.down_sql, m.verify_sql});
        const std::string outcome = r.rows.at(0).at(0).value_or("");
        if (outcome == "registered")
            ++counts.registered;
        else if (outcome == "updated")
            ++counts.updated;
        else
            ++counts.unchanged;
    }
    return counts;
}

std::vector<FileSide> file_sides(const MigrationFolder &folder) {
    std::vector<FileSide> out;
    for (const auto &m : folder.migrations)
        out.push_back({m.version, m.name, pgm::script_checksum(m.up_sql)});
    return out;
}

std::vector<DatabaseSide> database_sides(db::Connection &conn) {
    auto r = conn.query(
        "SELECT version, name, state, coalesce(applied_checksum, '') FROM pg_migrate.migration "
        "ORDER BY version_order");
    std::vector<DatabaseSide> out;
    for (const auto &row : r.rows)
        out.push_back(
            {row[0].value_or(""), row[1].value_or(""), row[2].value_or(""), row[3].value_or("")});
    return out;
}

}  // namespace pgmig::migrations
