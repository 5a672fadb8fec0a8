// SPI access for pg_migrate's own queries (values always passed as parameters; identifiers
// only ever built with format('%I') or regclass output) and for running the statements of a
// user's migration script.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgm::pg {

using Value = std::optional<std::string>;  // text form; nullopt is SQL NULL
using Row = std::vector<Value>;

struct QueryResult {
    std::vector<Row> rows;
    uint64 processed = 0;
};

void spi_connect();
void spi_finish();

// Runs one of our own queries; every parameter is passed as text ($1::type in the SQL). The
// query runs with search_path pinned to pg_catalog, pg_temp (name pg_migrate's objects and
// users' tables schema-qualified, or by OID).
QueryResult query(const char *sql, const std::vector<Value> &args = {});

// Runs a query with the caller's search_path, to resolve names a user wrote (a table named
// in a migration). Every function, operator and type in the SQL must be schema-qualified.
QueryResult query_in_caller_path(const char *sql, const std::vector<Value> &args = {});

// The search_path in effect outside pg_migrate's own queries (the caller's).
std::string caller_search_path();

// A query prepared once and run many times (log inserts in a long migration run).
class PreparedQuery {
  public:
    PreparedQuery(const char *sql, int nargs);
    QueryResult run(const std::vector<Value> &args) const;

  private:
    SPIPlanPtr plan_ = nullptr;
    int nargs_;
};

struct StatementOutcome {
    uint64 processed = 0;
    bool returned_false = false;  // first column boolean and some row false or NULL
};

// Runs one statement of a user's script, as the caller. PostgreSQL errors surface as PgError.
StatementOutcome run_user_statement(const std::string &sql);

}  // namespace pgm::pg
