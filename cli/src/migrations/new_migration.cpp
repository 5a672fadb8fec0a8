#include "migrations/new_migration.hpp"

#include "migration_version.hpp"

#include <algorithm>
#include <stdexcept>

namespace pgmig::migrations {

namespace {

bool all_digits(const std::string &s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The number a script's version is counted by: Flyway's first part ("1" of "1.1"), the
// version as the file spells it otherwise. Diesel's folders are timestamps.
std::string counted_part(Layout layout, const LayoutScript &s) {
    if (layout == Layout::flyway) {
        const std::string &v = s.shown_version;
        return v.substr(0, v.find('.'));
    }
    return s.shown_version.empty() ? s.version : s.shown_version;
}

std::vector<const LayoutScript *> versioned(const std::vector<LayoutScript> &existing) {
    std::vector<const LayoutScript *> out;
    for (const auto &s : existing)
        if (s.kind != "repeatable" && !s.version.empty()) out.push_back(&s);
    return out;
}

std::string format_time(std::time_t now, const char *format) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// a + 1 for a string of digits, keeping its width when it had leading zeros.
std::string plus_one(const std::string &digits, std::size_t width) {
    std::string out = digits;
    int i = static_cast<int>(out.size()) - 1;
    for (; i >= 0; --i) {
        if (out[i] == '9') {
            out[i] = '0';
        } else {
            ++out[i];
            break;
        }
    }
    if (i < 0) out.insert(out.begin(), '1');
    if (out.size() < width) out.insert(0, width - out.size(), '0');
    return out;
}

std::string header(const std::string &base) {
    return "-- " + base + ": what this migration changes, and why.\n";
}

}  // namespace

std::string version_scheme(Layout layout, const std::vector<LayoutScript> &existing) {
    if (layout == Layout::diesel) return "timestamp";
    const auto scripts = versioned(existing);
    if (scripts.empty()) return "timestamp";
    bool sequential = true, unix_seconds = true;
    for (const auto *s : scripts) {
        const std::string v = counted_part(layout, *s);
        if (!all_digits(v)) return "timestamp";
        sequential = sequential && v.size() <= 7;
        unix_seconds = unix_seconds && v.size() == 10 && v[0] != '0';
    }
    return sequential ? "sequential" : unix_seconds ? "unix" : "timestamp";
}

NewMigration plan_new_migration(Layout layout, const std::vector<LayoutScript> &existing,
                                const std::string &name, bool verify, std::time_t now) {
    if (verify && layout != Layout::pgmig)
        throw std::invalid_argument("--verify: verify scripts are pgmig's own; this folder is in " +
                                    layout_name(layout) + "'s layout, which has none");
    NewMigration out;
    out.scheme = version_scheme(layout, existing);
    const auto scripts = versioned(existing);

    // The greatest version there is, compared as pgmig orders versions.
    const LayoutScript *newest = nullptr;
    for (const auto *s : scripts)
        if (!newest || pgm::compare_versions(s->version, newest->version) > 0) newest = s;

    if (out.scheme == "sequential") {
        std::size_t width = 0;
        std::string max = "0";
        for (const auto *s : scripts) {
            const std::string v = counted_part(layout, *s);
            // Leading zeros set the width only when the folder pads its numbers.
            if (v.size() > 1 && v[0] == '0') width = std::max(width, v.size());
            if (pgm::compare_versions(v, max) > 0) max = v;
        }
        std::string stripped = max.substr(std::min(max.find_first_not_of('0'), max.size()));
        out.version = plus_one(stripped.empty() ? "0" : stripped, width);
    } else {
        out.version = out.scheme == "unix" ? std::to_string(static_cast<long long>(now))
                                           : format_time(now, "%Y%m%d%H%M%S");
        // A clock behind the newest file (or two migrations in the same second): one more
        // than the newest, so the new one is never out of order.
        if (newest && layout != Layout::flyway &&
            pgm::compare_versions(out.version, newest->version) <= 0 && all_digits(newest->version))
            out.version = plus_one(newest->version, 0);
    }
    if (layout == Layout::flyway && newest) {
        // Flyway's versions are compared through their mapping (1.1 is 1000001000000000000).
        std::string why;
        auto mapped = flyway_version(out.version, &why);
        if (mapped && pgm::compare_versions(*mapped, newest->version) <= 0)
            out.version = plus_one(counted_part(layout, *newest), 0);
    }

    const std::string base = out.version + "_" + name;
    const std::string down_text =
        "-- Reverts " + base + ". Delete this file if the migration cannot be reverted.\n\n";
    switch (layout) {
        case Layout::pgmig:
            out.files.push_back(
                {base + ".up.sql",
                 header(base) +
                     "-- Runs in its own transaction. Directives (SQL comments at the top):\n"
                     "--   -- pgmig:no-transaction     run statement by statement (CREATE INDEX "
                     "CONCURRENTLY)\n"
                     "--   -- pgmig:snapshot <table>   snapshot a table before this migration "
                     "runs\n\n"});
            out.files.push_back({base + ".down.sql", down_text});
            if (verify)
                out.files.push_back(
                    {base + ".verify.sql",
                     "-- Checks " + base +
                         " after it ran, in the same transaction: every\n"
                         "-- boolean in the first column of every row must be true, e.g.\n"
                         "--   SELECT count(*) = 0 FROM user_profiles WHERE role IS NULL;\n\n"});
            break;
        case Layout::golang_migrate:
        case Layout::pop: {
            // pop: the .postgres mark when the folder's files carry dialect marks.
            std::string mark;
            if (layout == Layout::pop)
                for (const auto *s : scripts)
                    if (s->path.filename().string().find(".postgres.") != std::string::npos)
                        mark = ".postgres";
            out.files.push_back({base + mark + ".up.sql", header(base) + "\n"});
            out.files.push_back({base + mark + ".down.sql", down_text});
            break;
        }
        case Layout::dbmate:
            out.files.push_back({base + ".sql", "-- migrate:up\n" + header(base) +
                                                    "\n\n-- migrate:down\n-- Reverts " + base +
                                                    " (leave empty if it cannot be).\n\n"});
            break;
        case Layout::flyway: {
            const std::string fly = "V" + out.version + "__" + name;
            out.files.push_back({fly + ".sql", header(fly) + "\n"});
            bool undo = false;
            for (const auto *s : scripts) undo = undo || s->kind == "down";
            if (undo)
                out.files.push_back({"U" + out.version + "__" + name + ".sql",
                                     "-- Reverts " + fly +
                                         ". Delete this file if the migration cannot be "
                                         "reverted.\n\n"});
            break;
        }
        case Layout::sqlx: {
            // Reversible (.up.sql/.down.sql) when the folder's migrations are, as
            // `sqlx migrate add -r` makes them; one <version>_<name>.sql otherwise.
            bool reversible = false;
            for (const auto *s : scripts) {
                const std::string f = s->path.filename().string();
                reversible =
                    reversible || (f.size() > 7 && f.compare(f.size() - 7, 7, ".up.sql") == 0);
            }
            if (reversible) {
                out.files.push_back({base + ".up.sql", header(base) + "\n"});
                out.files.push_back({base + ".down.sql", down_text});
            } else {
                out.files.push_back({base + ".sql", header(base) + "\n"});
            }
            break;
        }
        case Layout::diesel: {
            // Diesel's folder spells the timestamp YYYY-MM-DD-HHMMSS.
            const std::string &v = out.version;
            const std::string folder =
                (v.size() == 14 ? v.substr(0, 4) + "-" + v.substr(4, 2) + "-" + v.substr(6, 2) +
                                      "-" + v.substr(8)
                                : v) +
                "_" + name;
            out.files.push_back({std::filesystem::path(folder) / "up.sql", header(folder) + "\n"});
            out.files.push_back({std::filesystem::path(folder) / "down.sql",
                                 "-- Reverts " + folder +
                                     ". Leave it empty if the migration cannot be reverted.\n\n"});
            break;
        }
    }
    return out;
}

}  // namespace pgmig::migrations
