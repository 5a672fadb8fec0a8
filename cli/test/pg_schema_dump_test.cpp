// The table definitions pg_dump writes are run through libpq, which knows no psql
// meta-commands.
#include <gtest/gtest.h>

#include "backup/pg_schema_dump.hpp"

using pgmig::backup::ddl_for_libpq;

TEST(DdlForLibpq, drops_psql_meta_commands_and_keeps_the_sql) {
    const std::string dump =
        "--\n-- PostgreSQL database dump\n--\n\\restrict AbC123\n"
        "SET statement_timeout = 0;\nCREATE TABLE shop.t (\n    id integer\n);\n"
        "\\unrestrict AbC123\n";
    EXPECT_EQ(ddl_for_libpq(dump),
              "--\n-- PostgreSQL database dump\n--\nSET statement_timeout = 0;\n"
              "CREATE TABLE shop.t (\n    id integer\n);\n");
}

TEST(DdlForLibpq, keeps_backslashes_inside_statements) {
    EXPECT_EQ(ddl_for_libpq("COMMENT ON TABLE t IS 'a\\b';\n"), "COMMENT ON TABLE t IS 'a\\b';\n");
    EXPECT_EQ(ddl_for_libpq(""), "");
}
