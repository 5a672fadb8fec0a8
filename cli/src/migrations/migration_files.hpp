// A folder of migration files: <version>_<name>.up.sql, .down.sql and optional .verify.sql.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::migrations {

struct MigrationFile {
    std::string version;
    std::string name;
    std::filesystem::path up, down, verify;  // empty path: no such file
};

struct FolderProblem {
    std::string file;
    std::string problem;
};

struct MigrationFolder {
    std::vector<MigrationFile> migrations;  // sorted by numeric version
    std::vector<FolderProblem> problems;    // files that are not valid migration files
};

// What a file name means: version, name and kind ("up", "down", "verify"), or why it is not
// a migration file name.
struct ParsedName {
    std::string version, name, kind;
};
std::optional<ParsedName> parse_file_name(const std::string &file_name, std::string *why);

// Reads a folder (not recursively). Files that do not end in .sql are ignored; .sql files
// with a bad name, a version used by two names, or a down/verify without an up file are
// reported as problems.
MigrationFolder read_folder(const std::filesystem::path &dir);

std::string read_file(const std::filesystem::path &path);

// A file name for a new migration: <version>_<name>.<kind>.sql. Names are lower-case
// letters, digits and underscores.
std::optional<std::string> name_problem(const std::string &name);

}  // namespace pgmig::migrations
