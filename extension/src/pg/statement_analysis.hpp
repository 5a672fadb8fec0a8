// What each statement of a script does to existing tables, read from PostgreSQL's raw parse
// trees: the tables it touches and the lock each takes, the lint findings (unsafe patterns
// for a live database), and the data expectations it creates (columns becoming unique or
// NOT NULL, CHECK constraints being added) that validation can test before it runs.
#pragma once

#include <string>
#include <vector>

namespace pgm::pg {

struct TableLock {
    std::string table;      // as written, e.g. "public.user_profiles" or "user_profiles"
    std::string lock_mode;  // e.g. "AccessExclusiveLock"
    bool exists = false;    // the table exists now (not created earlier in the same script)
};

struct LintFinding {
    std::string rule;      // e.g. "require-concurrent-index-creation"
    std::string severity;  // "error" or "warning"
    std::string message;
    std::string alternative;  // the safe way to do it
};

// A property of existing data the statement will require.
struct DataExpectation {
    std::string kind;  // "unique", "not_null", "check" or "enum"
    std::string table;
    std::vector<std::string> columns;  // for unique / not_null
    std::string expression;            // check: the condition's SQL; enum: the labels as literals
    std::string constraint;            // what the statement adds, for messages
};

struct StatementAnalysis {
    int number = 0;
    std::string text;
    std::string command;
    std::vector<TableLock> locks;
    std::vector<LintFinding> findings;
    std::vector<DataExpectation> expectations;
};

// Throws PgError on a syntax error. Needs an SPI connection (catalog lookups).
std::vector<StatementAnalysis> analyze_statements(const std::string &script);

// The script's tokens as PostgreSQL's lexer reads them with standard_conforming_strings
// as given, each with its value (identifiers folded, string constants unquoted), without
// comments or whitespace: two scripts with the same tokens are the same statements, under
// that setting.
std::vector<std::string> script_tokens(const std::string &script, bool standard_conforming_strings);

}  // namespace pgm::pg
