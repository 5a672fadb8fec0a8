// Splits a script into statements with PostgreSQL's own raw parser, and recognizes the
// statements that cannot run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM...).
#pragma once

#include "pg/postgres.hpp"

#include <string>
#include <vector>

namespace pgm::pg {

// While one is alive, parse_script puts its parse trees in a memory context of the scope's,
// deleted when the scope ends: a long migrate_execute() call does not keep every attempt's
// trees until it returns.
class ParseMemoryScope {
  public:
    ParseMemoryScope();
    ~ParseMemoryScope();
    ParseMemoryScope(const ParseMemoryScope &) = delete;
    ParseMemoryScope &operator=(const ParseMemoryScope &) = delete;

  private:
    MemoryContext context_ = nullptr;
    MemoryContext outer_ = nullptr;
};

struct ParsedStatement {
    std::string text;       // exactly the bytes the parser assigned to the statement
    int byte_offset = 0;    // where text starts in the script
    int char_position = 1;  // the same, as a 1-based character position (as errors report)
    int text_position = 1;  // character position of the statement proper, after leading
                            // whitespace and comment lines
    std::string command;    // command tag, e.g. "CREATE INDEX"
    std::string no_transaction_reason;  // empty unless the statement needs no transaction
    bool transaction_control = false;   // BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...
};

// Throws PgError (SQLSTATE 42601 with a position) when the script does not parse.
std::vector<ParsedStatement> parse_script(const std::string &script);

// The major version of the PostgreSQL whose parser parse_script() uses ("15").
std::string server_version();

// Characters in the first `bytes` bytes of text, in the server encoding (error positions
// are character based).
int char_count(const char *text, size_t bytes);

// The byte offset of a 1-based character position in text (text.size() past the end).
size_t byte_offset_of_char(const std::string &text, int char_pos);

// The statement's text without leading whitespace and comment-only lines, for messages.
std::string display_text(const ParsedStatement &statement, size_t max_length = 2000);

}  // namespace pgm::pg
