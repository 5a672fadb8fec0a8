// The migration registry: what migrate_register() stores, and the script analysis shared
// with the executor.
#pragma once

#include "pg/statement_parser.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgm {

struct ScriptAnalysis {
    std::vector<pg::ParsedStatement> statements;
    std::string no_transaction_reason;  // empty when the script can run in a transaction
};

// Parses a script. `role` ("up", "down", "verify") and `version` name it in errors: a syntax
// error becomes SQLSTATE 42601 with the line and character of the problem.
ScriptAnalysis analyze_script(const std::string &script, const char *role,
                              const std::string &version);

// Why a script does not parse on this server (naming it, the server's version and the line),
// or nothing when it parses.
std::optional<std::string> parse_problem(const std::string &script, const char *role,
                                         const std::string &version);

// Per-migration limits from the register options, falling back to the GUCs.
struct MigrationLimits {
    int lock_timeout_ms;
    int statement_timeout_ms;
    int lock_retries;
    bool statement_timeout_from_option;
};

// The registered option values (milliseconds / count), each nullopt when not set.
struct MigrationOptionLimits {
    std::optional<int> lock_timeout_ms, statement_timeout_ms, lock_retries;
};

MigrationLimits effective_limits(const MigrationOptionLimits &options);

}  // namespace pgm
