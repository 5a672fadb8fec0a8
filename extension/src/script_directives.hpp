// Directives are SQL comments at the top of a migration script, before its first statement:
//   -- pgmig:no-transaction
//   -- pgmig:snapshot user_profiles
// Shared by the extension (migrate_register) and the CLI (migration files).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgm {

struct ScriptDirective {
    std::string name;      // e.g. "no-transaction"
    std::string argument;  // the rest of the line, trimmed; may be empty
    int line = 0;          // 1-based line number in the script
};

// Directives in the leading comment block: only blank lines and `--` comments may precede
// them; parsing stops at the first line that is anything else.
std::vector<ScriptDirective> parse_directives(std::string_view script);

bool has_directive(const std::vector<ScriptDirective> &directives, std::string_view name);

}  // namespace pgm
