// The layouts of migration folders that pgmig reads as they are: its own, and those of
// golang-migrate, dbmate, Flyway, sqlx, Diesel and pop. A layout says which files are
// migrations, how a file name gives the version and name, where the down script is, and
// how the tool marks a migration that must run outside a transaction.
#pragma once

#include "migrations/migration_files.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmig::migrations {

enum class Layout { pgmig, golang_migrate, dbmate, flyway, sqlx, diesel, pop };

// "pgmig", "golang-migrate", "dbmate", "flyway", "sqlx", "diesel", "pop"
std::string layout_name(Layout layout);
std::optional<Layout> parse_layout_name(std::string_view name);
const std::vector<Layout> &all_layouts();
// How the layout names its files, in a few words, for status and errors.
std::string layout_shape(Layout layout);

// One script of a migration as the layout lays it out.
struct LayoutScript {
    std::string version;  // pgmig's version: digits only (Flyway's dotted ones are mapped)
    std::string name;
    std::string kind;  // "up", "down", "verify" or "repeatable" (Flyway's R__ files)
    std::filesystem::path path;
    enum class Part { whole, dbmate_up, dbmate_down } part = Part::whole;
    // The tool's own mark that this script runs outside a transaction (dbmate's
    // transaction:false, Diesel's run_in_transaction = false, pop's .autocommit, sqlx's
    // leading -- no-transaction), named for the directive pgmig adds; empty when none.
    std::string no_transaction_mark;
    std::string shown_version;  // the version as the file spells it (Flyway: "1.1")
};

struct LayoutListing {
    Layout layout = Layout::pgmig;
    std::string how_found;  // "--format", or what in the folder told the layout
    std::vector<LayoutScript> scripts;
    std::vector<FolderProblem> problems;
    std::vector<std::string> ignored;  // files of the layout pgmig leaves alone, with why
};

// Finds the layout of `dir` (unless `format` names it) and lists its scripts. Throws
// std::runtime_error when the folder mixes layouts so that none can be told, naming them.
LayoutListing list_layout(const std::filesystem::path &dir, std::optional<Layout> format);

// A dbmate file's sections. `why` says what is wrong when nullopt is returned.
struct DbmateSections {
    std::string up, down;
    bool has_down = false;
    bool up_no_transaction = false, down_no_transaction = false;
};
std::optional<DbmateSections> dbmate_sections(std::string_view text, std::string *why);

// A Flyway version ("1", "1.1", "2_1", "20240101120000") as pgmig's digits-only version,
// ordered as Flyway orders them: up to four parts, the first up to 14 digits, each later
// one up to 6 (1.1 -> 1000001000000000000, 1.10 after 1.9, 2 after both).
std::optional<std::string> flyway_version(std::string_view version, std::string *why);

// The script text pgmig registers: `text` with the directive that says why it runs outside
// a transaction added in front when the tool marked it so.
std::string with_no_transaction_directive(std::string text, const std::string &mark);

}  // namespace pgmig::migrations
