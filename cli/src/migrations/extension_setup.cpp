#include "migrations/extension_setup.hpp"

#include <iostream>
#include <stdexcept>

namespace pgmig::migrations {

namespace {

// The roles, besides superusers and the current one, that may create objects in `schema`
// (by owning it, as the database's owner owns public through pg_database_owner, or by a
// grant): an overload they create there could be picked up by calls to the extension's
// functions. At most five names, then how many more.
std::string other_writers(db::Connection &conn, const std::string &schema) {
    auto r = conn.query(
        "SELECT r.rolname::pg_catalog.text FROM pg_catalog.pg_roles r, pg_catalog.pg_namespace n "
        "WHERE n.nspname OPERATOR(pg_catalog.=) $1 AND NOT r.rolsuper "
        "  AND r.rolname OPERATOR(pg_catalog.<>) CURRENT_USER "
        "  AND NOT r.rolname::pg_catalog.text OPERATOR(pg_catalog.~~) 'pg\\_%' "
        "  AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE') ORDER BY 1",
        {schema});
    std::string out;
    for (size_t i = 0; i < r.rows.size() && i < 5; ++i)
        out += (out.empty() ? "" : ", ") + r.rows[i][0].value_or("");
    if (r.rows.size() > 5) out += " and " + std::to_string(r.rows.size() - 5) + " more";
    return out;
}

}  // namespace

std::optional<std::string> installed_extension_version(db::Connection &conn) {
    auto r =
        conn.query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_migrate'");
    if (r.rows.empty()) return std::nullopt;
    return r.rows[0][0].value_or("");
}

std::string create_extension(db::Connection &conn, const std::string &schema) {
    auto available = conn.query(
        "SELECT default_version FROM pg_catalog.pg_available_extensions WHERE name = "
        "'pg_migrate'");
    if (available.rows.empty())
        throw std::runtime_error(
            "the pg_migrate extension is not in this database, and its files are not "
            "installed on this server: run `make install` (as root) on the database host, "
            "then this command again");
    // In --schema, or in the user's first schema, as a CREATE EXTENSION of theirs
    // would be.
    const std::string target = !schema.empty() ? schema : conn.with_user_search_path([&] {
        return conn.query("SELECT pg_catalog.current_schema()::pg_catalog.text")
            .rows.at(0)
            .at(0)
            .value_or("");
    });
    if (target.empty())
        throw std::runtime_error("no schema of your search_path (" + conn.user_search_path() +
                                 ") exists to create the extension in: pass --schema NAME");
    const std::string writers = other_writers(conn, target);
    if (!writers.empty())
        std::cerr << "warning: roles " << writers << " may create objects in schema " << target
                  << ", where the extension goes: a function they create there "
                     "could be picked up by your calls of the extension's functions "
                     "(pgmig's own calls are safe). Prefer a schema only trusted "
                     "roles can write: pgmig init --schema NAME (docs/security.md)\n";
    const std::string quoted =
        conn.query("SELECT pg_catalog.quote_ident($1)", {target}).rows.at(0).at(0).value_or("");
    try {
        conn.exec("CREATE EXTENSION pg_migrate SCHEMA " + quoted);
        conn.pin_search_path();  // reads the extension's schema
    } catch (const db::DbError &e) {
        if (e.sqlstate() == "42501")
            throw std::runtime_error(
                "the pg_migrate extension is not in this database, and this role may not "
                "create it (that needs a superuser): run `pgmig init` once as one (for "
                "example pgmig --db postgresql://postgres@host/db init), grant the deploy "
                "role (SELECT migrate_grant('deployer', 'deploy')), then this command again");
        throw;
    }
    return installed_extension_version(conn).value_or("");
}

}  // namespace pgmig::migrations
