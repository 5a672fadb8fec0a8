#include "migrations/status_report.hpp"

#include "migration_version.hpp"

#include <algorithm>
#include <map>

namespace pgmig::migrations {

namespace {
struct VersionLess {
    bool operator()(const std::string &a, const std::string &b) const {
        return pgm::compare_versions(a, b) < 0;
    }
};
}  // namespace

std::vector<StatusRow> compare(const std::vector<FileSide> &files,
                               const std::vector<DatabaseSide> &database) {
    std::map<std::string, const FileSide *, VersionLess> file_by_version;
    std::map<std::string, const DatabaseSide *, VersionLess> db_by_version;
    for (const auto &f : files) file_by_version[f.version] = &f;
    for (const auto &d : database) db_by_version[d.version] = &d;

    std::string newest_applied;
    for (const auto &d : database)
        if (d.state == "applied" &&
            (newest_applied.empty() || pgm::compare_versions(d.version, newest_applied) > 0))
            newest_applied = d.version;

    std::map<std::string, StatusRow, VersionLess> rows;
    for (const auto &[version, f] : file_by_version) {
        StatusRow row{version, f->name, "pending", false, false, ""};
        auto it = db_by_version.find(version);
        if (it != db_by_version.end()) {
            const DatabaseSide &d = *it->second;
            row.registered = true;
            row.state = d.state;
            if (d.name != f->name) {
                // Registration refuses a second name for a version, so up would stop here.
                row.state = "renamed";
                row.note = "registered as " + d.name + " (" + d.state +
                           "): up refuses a new name for a version; rename the file back, or "
                           "give it a new version";
            } else if (d.state == "applied" && d.applied_checksum != f->checksum) {
                row.state = "modified";
                row.note = "the file changed after it was applied";
            }
        } else {
            row.note = "not registered yet";
        }
        rows[version] = row;
    }
    for (const auto &[version, d] : db_by_version) {
        if (rows.count(version)) continue;
        StatusRow row{version, d->name, d->state, false, true, ""};
        if (d->state == "applied") {
            row.state = "missing-file";
            row.note = "applied, but its file is gone";
        } else {
            row.note = "registered, but no file";
        }
        rows[version] = row;
    }
    std::vector<StatusRow> out;
    for (auto &[version, row] : rows) {
        if ((row.state == "pending" || row.state == "failed" || row.state == "rolled_back") &&
            !newest_applied.empty() && pgm::compare_versions(version, newest_applied) < 0) {
            row.out_of_order = true;
            row.note = "older than applied " + newest_applied;
        }
        out.push_back(row);
    }
    return out;
}

}  // namespace pgmig::migrations
