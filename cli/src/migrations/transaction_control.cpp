#include "migrations/transaction_control.hpp"

#include "migrations/migration_files.hpp"

#include <set>

namespace pgmig::migrations {

std::vector<ScriptStatement> script_statements(db::Connection &conn, const std::string &sql) {
    auto r = conn.query(
        "SELECT statement_number, start_position, command FROM @extschema@.migrate_statements($1) "
        "ORDER BY statement_number",
        {sql});
    std::vector<ScriptStatement> out;
    for (const auto &row : r.rows)
        out.push_back({std::stoi(row[0].value_or("0")), std::stoi(row[1].value_or("0")),
                       row[2].value_or("")});
    return out;
}

bool is_transaction_control(const std::string &command) {
    static const std::set<std::string> tags = {
        "BEGIN",   "START TRANSACTION",   "COMMIT",          "ROLLBACK",         "SAVEPOINT",
        "RELEASE", "PREPARE TRANSACTION", "COMMIT PREPARED", "ROLLBACK PREPARED"};
    return tags.count(command) > 0;
}

std::optional<std::string> first_transaction_control(
    const std::string &sql, const std::vector<ScriptStatement> &statements) {
    for (const auto &s : statements)
        if (is_transaction_control(s.command))
            return "statement " + std::to_string(s.number) + " (line " +
                   std::to_string(line_of_character(sql, s.start_position)) + ") is " + s.command;
    return std::nullopt;
}

}  // namespace pgmig::migrations
