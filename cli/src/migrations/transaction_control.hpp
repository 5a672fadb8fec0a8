// Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...) in a script that pgmig runs
// inside a transaction of its own: a COMMIT there would commit half the script.
#pragma once

#include "db/connection.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgmig::migrations {

// One statement of a script as migrate_statements() splits it with PostgreSQL's parser.
struct ScriptStatement {
    int number = 0;          // from 1
    int start_position = 0;  // character position (from 1) of the statement's first word
    std::string command;     // the command tag: "CREATE TABLE", "COMMIT", ...
};

// The statements of `sql`, split by the server's parser (migrate_statements()). Throws the
// server's DbError when the script does not parse.
std::vector<ScriptStatement> script_statements(db::Connection &conn, const std::string &sql);

// Whether a command tag is one of a transaction control statement (BEGIN, START TRANSACTION,
// COMMIT, ROLLBACK, SAVEPOINT, RELEASE, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED;
// END and ABORT have the tags COMMIT and ROLLBACK).
bool is_transaction_control(const std::string &command);

// "statement 2 (line 3) is COMMIT" for the first transaction control statement of `sql`, or
// nullopt.
std::optional<std::string> first_transaction_control(
    const std::string &sql, const std::vector<ScriptStatement> &statements);

}  // namespace pgmig::migrations
