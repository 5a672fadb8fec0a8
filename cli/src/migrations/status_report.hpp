// Files against database: the state of every migration as `pgmig status` shows it. Pure.
#pragma once

#include <string>
#include <vector>

namespace pgmig::migrations {

struct FileSide {
    std::string version, name, checksum;
};

struct DatabaseSide {
    std::string version, name, state;  // pending, applied, failed, rolled_back
    std::string applied_checksum;      // empty unless applied
};

struct StatusRow {
    std::string version, name;
    std::string state;          // pending, applied, failed, rolled_back, modified, missing-file
    bool out_of_order = false;  // pending, but a later version is already applied
    bool registered = false;    // known to the database
    std::string note;
    bool problem() const {
        return state == "modified" || state == "renamed" || state == "missing-file" ||
               state == "failed" || out_of_order;
    }
};

std::vector<StatusRow> compare(const std::vector<FileSide> &files,
                               const std::vector<DatabaseSide> &database);

}  // namespace pgmig::migrations
