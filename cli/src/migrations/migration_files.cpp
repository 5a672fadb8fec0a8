#include "migrations/migration_files.hpp"

#include "migration_version.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace pgmig::migrations {

std::optional<std::string> name_problem(const std::string &name) {
    if (name.empty()) return std::string("the name is empty");
    if (name.size() > 100) return std::string("the name is longer than 100 characters");
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return "the name contains \"" + std::string(1, c) +
                   "\"; use lower-case letters, digits and underscores";
    return std::nullopt;
}

std::optional<ParsedName> parse_file_name(const std::string &file_name, std::string *why) {
    static const char *kinds[] = {"up", "down", "verify"};
    std::string kind;
    std::string stem;
    for (const char *k : kinds) {
        const std::string suffix = std::string(".") + k + ".sql";
        if (file_name.size() > suffix.size() &&
            file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            kind = k;
            stem = file_name.substr(0, file_name.size() - suffix.size());
        }
    }
    if (kind.empty()) {
        *why = "expected <version>_<name>.up.sql, .down.sql or .verify.sql";
        return std::nullopt;
    }
    const size_t underscore = stem.find('_');
    if (underscore == std::string::npos || underscore == 0 || underscore + 1 == stem.size()) {
        *why = "expected <version>_<name>." + kind + ".sql";
        return std::nullopt;
    }
    ParsedName parsed{stem.substr(0, underscore), stem.substr(underscore + 1), kind};
    if (auto problem = pgm::version_problem(parsed.version)) {
        *why = *problem;
        return std::nullopt;
    }
    return parsed;
}

MigrationFolder read_folder(const std::filesystem::path &dir) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir))
        throw std::runtime_error("migrations folder " + dir.string() +
                                 " does not exist (pgmig init creates it)");
    MigrationFolder folder;
    std::map<std::string, MigrationFile> by_version;
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && entry.path().extension() == ".sql")
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto &path : files) {
        const std::string file = path.filename().string();
        std::string why;
        auto parsed = parse_file_name(file, &why);
        if (!parsed) {
            folder.problems.push_back({file, why});
            continue;
        }
        auto it = by_version.find(parsed->version);
        if (it == by_version.end()) {
            it = by_version
                     .emplace(parsed->version,
                              MigrationFile{parsed->version, parsed->name, {}, {}, {}})
                     .first;
        } else if (it->second.name != parsed->name) {
            folder.problems.push_back(
                {file,
                 "version " + parsed->version + " is already used by \"" + it->second.name + "\""});
            continue;
        }
        fs::path &slot = parsed->kind == "up"     ? it->second.up
                         : parsed->kind == "down" ? it->second.down
                                                  : it->second.verify;
        slot = path;
    }
    // Two spellings of one number ("001" and "1") are one version to the extension.
    std::map<std::string, std::string> numeric;
    for (auto &[version, m] : by_version) {
        std::string stripped = version;
        while (stripped.size() > 1 && stripped.front() == '0') stripped.erase(0, 1);
        auto [it, fresh] = numeric.emplace(stripped, version);
        if (!fresh) {
            folder.problems.push_back(
                {m.version + "_" + m.name,
                 "version " + version + " is the same number as " + it->second});
            continue;
        }
        if (m.up.empty()) {
            folder.problems.push_back({m.version + "_" + m.name, "has no .up.sql file"});
            continue;
        }
        folder.migrations.push_back(m);
    }
    std::sort(folder.migrations.begin(), folder.migrations.end(),
              [](const MigrationFile &a, const MigrationFile &b) {
                  return pgm::compare_versions(a.version, b.version) < 0;
              });
    return folder;
}

std::string read_file(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace pgmig::migrations
