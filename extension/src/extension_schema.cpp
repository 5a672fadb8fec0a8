#include "extension_schema.hpp"

#include "pg/spi.hpp"

namespace pgm {

std::string extension_function(const char *name) {
    auto r = pg::query(
        "SELECT pg_catalog.format('%I.%I', n.nspname, $1::text) "
        "  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
        " WHERE e.extname = 'pg_migrate'",
        {std::string(name)});
    return r.rows.at(0).at(0).value();
}

}  // namespace pgm
