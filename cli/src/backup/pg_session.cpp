#include "backup/pg_session.hpp"

#include "db/connection.hpp"

namespace pgmig::backup {

void use_client_encoding(db::Connection &conn, const std::string &encoding) {
    conn.query("SELECT pg_catalog.set_config('client_encoding', $1, false)", {encoding});
}

std::string quoted_name(db::Connection &conn, const std::string &schema, const std::string &name) {
    return *conn.query("SELECT pg_catalog.format('%I.%I', $1::text, $2::text)", {schema, name})
                .rows.at(0)
                .at(0);
}

}  // namespace pgmig::backup
