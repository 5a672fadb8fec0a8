// A folder of migration files: pgmig's own <version>_<name>.up.sql, .down.sql and optional
// .verify.sql, or another tool's layout (folder_layout.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::migrations {

// The largest script file pgmig reads (migrations, seeds, lint): a bigger file is refused
// from its size, before any of it is read.
constexpr std::uintmax_t kMaxScriptBytes = 64u * 1024 * 1024;

struct MigrationFile {
    std::string version;
    std::string shown_version;  // as the files spell it (Flyway's "1.1"); often = version
    std::string name;
    std::filesystem::path up, down, verify;  // empty path: no such file
    // The scripts as read_file() returned them, read once when the folder was read.
    std::string up_sql;
    std::optional<std::string> down_sql, verify_sql;
};

struct FolderProblem {
    std::string file;  // the file name, escaped for the terminal (escape_for_terminal)
    std::string problem;
};

// A script that runs again whenever it changed (Flyway's R__<description>.sql), after the
// versioned migrations.
struct RepeatableScript {
    std::string name;
    std::filesystem::path path;
    std::string sql;
};

struct MigrationFolder {
    std::vector<MigrationFile> migrations;      // sorted by numeric version
    std::vector<FolderProblem> problems;        // files that are not valid migration files
    std::string layout = "pgmig";               // folder_layout.hpp's layout_name()
    std::string layout_found_by;                // "--format flyway", or what told the layout
    std::vector<std::string> ignored;           // files the layout leaves alone, with why
    std::vector<RepeatableScript> repeatables;  // by name
};

// The *.sql files directly in a folder, sorted by name (byte order), and the *.sql entries
// pgmig refuses to read: a name that is not UTF-8 or holds a control character, a symbolic
// link that is broken or leads outside the folder. Other entries (directories, files not
// ending in .sql) are ignored.
struct SqlFiles {
    std::vector<std::filesystem::path> files;
    std::vector<FolderProblem> problems;
};
SqlFiles list_sql_files(const std::filesystem::path &dir);

// Why a file name cannot be used (not UTF-8, a control or bidirectional formatting
// character), or nullopt.
std::optional<std::string> file_name_problem(std::string_view file_name);

// What a file name means: version, name and kind ("up", "down", "verify"), or why it is not
// a migration file name.
struct ParsedName {
    std::string version, name, kind;
};
std::optional<ParsedName> parse_file_name(const std::string &file_name, std::string *why);

// Reads a folder and every migration script in it, in the layout `format` names ("" finds
// it: see folder_layout.hpp). Files that do not end in .sql are ignored; .sql files with a bad
// name, a version used by two names, a down/verify without an up file, or a script
// read_file() refuses are reported as problems. An unknown `format` or a folder whose layout
// cannot be told throws std::runtime_error.
MigrationFolder read_folder(const std::filesystem::path &dir, const std::string &format = "");
// Throws std::runtime_error listing the folder's problems, if it has any: what up and
// preflight refuse before anything is registered.
void require_no_problems(const MigrationFolder &folder);

// Why these bytes cannot be sent to PostgreSQL as a script, naming the line (from 1) and the
// byte offset (from 0) of the first bad byte: a NUL byte, or bytes that are not UTF-8.
std::optional<std::string> script_bytes_problem(std::string_view bytes);

// Reads a script file: refuses (std::runtime_error naming the file) one over kMaxScriptBytes,
// one with a NUL byte or bytes that are not UTF-8, and a directory; returns the text without
// a leading UTF-8 byte order mark (which PostgreSQL would take for part of the first word).
std::string read_file(const std::filesystem::path &path);

// The line (from 1) of the `char_position`-th character (from 1, as PostgreSQL counts
// positions) of a UTF-8 text; CRLF and a lone CR end a line, as LF does.
int line_of_character(std::string_view text, int char_position);

// A file name for a new migration: <version>_<name>.<kind>.sql. Names are lower-case
// letters, digits and underscores.
std::optional<std::string> name_problem(const std::string &name);

}  // namespace pgmig::migrations
