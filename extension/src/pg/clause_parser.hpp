// Parse-tree checks of the clauses migrate_backfill() pastes into its batch statement.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgm::pg {

// Whether `set_clause` parses as only the assignments of one UPDATE (no WHERE, FROM,
// RETURNING, WITH). Throws PgError when it does not parse at all.
bool is_only_assignments(const std::string &set_clause);

// Whether `where_clause` parses as exactly one expression. Throws PgError when it does not
// parse at all.
bool is_one_expression(const std::string &where_clause);

// The columns a set clause (already checked with is_only_assignments) assigns.
std::vector<std::string> assigned_columns(const std::string &set_clause);

}  // namespace pgm::pg
