// Runs a migration's statements one by one outside a transaction (what CREATE INDEX
// CONCURRENTLY and friends need), with pg_migrate's lock_timeout, statement_timeout and
// retry settings, and dropping an invalid index an interrupted CONCURRENTLY build left behind.
#pragma once

#include "db/connection.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::migrations {

struct Statement {
    int number;
    std::string sql;
};

struct StatementFailure {
    int number;
    std::string sql, sqlstate, message;
};

// The statements of the up (or down) script of a registered migration, split by the server.
std::vector<Statement> registered_statements(db::Connection &conn, const std::string &version,
                                             bool down);

// Runs statements numbered `resume_from` and later; `done(n)` after each one that succeeded.
std::optional<StatementFailure> run_outside_transaction(db::Connection &conn,
                                                        const std::string &label,
                                                        const std::vector<Statement> &statements,
                                                        int resume_from,
                                                        const std::function<void(int)> &done);

// The index a CREATE INDEX CONCURRENTLY statement names, or "" (unnamed, or not one).
std::string concurrent_index_name(const std::string &statement);

// The same, with the table as written after ON (schema-qualified or not, quoted or not).
struct ConcurrentIndex {
    std::string name, table;
};
ConcurrentIndex concurrent_index(const std::string &statement);

}  // namespace pgmig::migrations
