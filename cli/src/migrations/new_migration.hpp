// The files `pgmig new` writes: the next version in the folder's own scheme (UTC timestamps,
// Unix seconds, or sequential numbers), in the shape of the folder's layout (pgmig's,
// golang-migrate's, dbmate's, Flyway's, sqlx's, Diesel's, pop's). Pure logic: the caller
// lists the folder and writes the files.
#pragma once

#include "migrations/folder_layout.hpp"

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace pgmig::migrations {

struct NewFile {
    std::filesystem::path path;  // relative to the migrations folder
    std::string text;
};

struct NewMigration {
    std::string version;  // as the file names spell it ("0005", "20261204093000", "3")
    std::string scheme;   // "timestamp", "unix" or "sequential"
    std::vector<NewFile> files;
};

// How the folder numbers its migrations, from the versions its scripts spell: "sequential"
// when every one has at most 7 digits (0001, 42; Flyway: the first part of 1.1),
// "unix" when every one is a Unix time in seconds (10 digits), else "timestamp"
// (YYYYMMDDHHMMSS, also for an empty folder).
std::string version_scheme(Layout layout, const std::vector<LayoutScript> &existing);

// The new migration `name` for a folder in `layout` holding `existing` scripts, at `now`.
// Its version is greater than every existing one. Throws std::invalid_argument when
// `verify` is asked of a layout without verify scripts.
NewMigration plan_new_migration(Layout layout, const std::vector<LayoutScript> &existing,
                                const std::string &name, bool verify, std::time_t now);

}  // namespace pgmig::migrations
