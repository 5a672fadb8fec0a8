#include "migrations/folder_layout.hpp"

#include "migration_version.hpp"
#include "migrations/terminal_text.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pgmig::migrations {

namespace fs = std::filesystem;

std::string layout_name(Layout layout) {
    switch (layout) {
        case Layout::pgmig:
            return "pgmig";
        case Layout::golang_migrate:
            return "golang-migrate";
        case Layout::dbmate:
            return "dbmate";
        case Layout::flyway:
            return "flyway";
        case Layout::sqlx:
            return "sqlx";
        case Layout::diesel:
            return "diesel";
        case Layout::pop:
            return "pop";
    }
    return "pgmig";
}

const std::vector<Layout> &all_layouts() {
    static const std::vector<Layout> all = {Layout::pgmig,  Layout::golang_migrate, Layout::dbmate,
                                            Layout::flyway, Layout::sqlx,           Layout::diesel,
                                            Layout::pop};
    return all;
}

std::optional<Layout> parse_layout_name(std::string_view name) {
    for (Layout l : all_layouts())
        if (layout_name(l) == name) return l;
    return std::nullopt;
}

std::string layout_shape(Layout layout) {
    switch (layout) {
        case Layout::pgmig:
            return "<version>_<name>.up.sql, .down.sql, .verify.sql";
        case Layout::golang_migrate:
            return "<version>_<name>.up.sql and .down.sql";
        case Layout::dbmate:
            return "<version>_<name>.sql with -- migrate:up and -- migrate:down";
        case Layout::flyway:
            return "V<version>__<description>.sql, undo U<version>__..., repeatable R__...";
        case Layout::sqlx:
            return "<version>_<name>.sql, or .up.sql and .down.sql";
        case Layout::diesel:
            return "<YYYY-MM-DD-HHMMSS>_<name>/up.sql and down.sql";
        case Layout::pop:
            return "<version>_<name>[.postgres][.autocommit].up.sql and .down.sql";
    }
    return "";
}

namespace {

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The first bytes of a file (enough for a leading marker line), or "" when unreadable.
std::string head_of(const fs::path &path, size_t n = 64) {
    std::ifstream in(path, std::ios::binary);
    std::string out(n, '\0');
    in.read(out.data(), static_cast<std::streamsize>(n));
    out.resize(static_cast<size_t>(in.gcount()));
    if (out.rfind("\xEF\xBB\xBF", 0) == 0) out.erase(0, 3);
    return out;
}

bool starts_with_sqlx_no_transaction(const fs::path &path) {
    // sqlx: the file's first line is exactly "-- no-transaction".
    const std::string head = head_of(path);
    static const std::string kMark = "-- no-transaction";
    if (head.rfind(kMark, 0) != 0) return false;
    return head.size() == kMark.size() || head[kMark.size()] == '\n' || head[kMark.size()] == '\r';
}

// dbmate's section line: "--", optional spaces, "migrate:up" or "migrate:down", then the end
// of the line or spaces and options (dbmate's own rule; "-- migrate:update" is a comment).
std::optional<std::string> dbmate_marker(std::string_view line, const char *kind) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.rfind("--", 0) != 0) return std::nullopt;
    line.remove_prefix(2);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    const std::string word = std::string("migrate:") + kind;
    if (line.rfind(word, 0) != 0) return std::nullopt;
    line.remove_prefix(word.size());
    if (!line.empty() && line.front() != ' ' && line.front() != '\t') return std::nullopt;
    return std::string(line);
}

// Whether a dbmate up marker starts a line of the file's first MiB (after a BOM).
bool file_has_dbmate_marker(const fs::path &path) {
    const std::string head = head_of(path, 1 << 20);
    size_t pos = 0;
    while (pos < head.size()) {
        const size_t end = head.find('\n', pos);
        const std::string_view line(head.data() + pos,
                                    (end == std::string::npos ? head.size() : end) - pos);
        if (dbmate_marker(line, "up")) return true;
        if (end == std::string::npos) break;
        pos = end + 1;
    }
    return false;
}

const std::regex kSingle(R"(^([0-9]+)_(.+)\.sql$)");
const std::regex kFlyway(R"(^([VU])([0-9][0-9._]*)__(.+)\.sql$)");
const std::regex kFlywayRepeatable(R"(^R__(.+)\.sql$)");
const std::regex kPop(R"(^([0-9]+)_([^.]+)((\.[a-z0-9]+)*)\.(up|down)\.(sql|fizz)$)");
const std::regex kDieselDir(R"(^([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{6})_(.+)$)");
const std::regex kDieselPlainDir(R"(^([0-9]{14})_(.+)$)");

// pop's dialect names (and .autocommit): only these make a folder pop's, so a pgmig file
// such as 2_add.index.up.sql does not.
bool pop_mark_known(const std::string &mark) {
    static const std::set<std::string> kMarks = {"postgres",  "postgresql", "mysql", "sqlite",
                                                 "sqlite3",   "cockroach",  "crdb",  "mssql",
                                                 "sqlserver", "autocommit"};
    return kMarks.count(mark) > 0;
}

bool pop_marks_known(const std::string &marks) {
    if (marks.empty()) return false;
    for (size_t at = 0; at < marks.size();) {
        const size_t next = marks.find('.', at + 1);
        const std::string mark =
            marks.substr(at + 1, (next == std::string::npos ? marks.size() : next) - at - 1);
        if (!pop_mark_known(mark)) return false;
        at = next == std::string::npos ? marks.size() : next;
    }
    return true;
}

struct Signals {
    bool updown = false, verify = false, single = false, flyway = false, diesel = false;
    bool pop_marker = false, sqlx_marker = false, dbmate_marker = false;
    std::string pop_example, flyway_example, diesel_example, dbmate_example, sqlx_example,
        updown_example, single_example;
};

// Diesel's migration folders: a name <YYYY-MM-DD-HHMMSS>_<name> (or 14 digits), holding
// something. A folder that is a link out of the migrations folder, or whose name pgmig
// refuses, is a problem (when `problems` is given) and is not read.
std::vector<fs::path> diesel_dirs(const fs::path &dir,
                                  std::vector<FolderProblem> *problems = nullptr) {
    std::vector<fs::path> out;
    std::error_code ec;
    const fs::path root = fs::canonical(dir, ec);
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (!entry.is_directory()) continue;
        const std::string name = entry.path().filename().string();
        if (!std::regex_match(name, kDieselDir) && !std::regex_match(name, kDieselPlainDir))
            continue;
        if (auto problem = file_name_problem(name)) {
            if (problems) problems->push_back({escape_for_terminal(name), *problem});
            continue;
        }
        if (entry.is_symlink()) {
            const fs::path target = fs::canonical(entry.path(), ec);
            const auto end =
                std::mismatch(root.begin(), root.end(), target.begin(), target.end()).first;
            if (ec || end != root.end()) {
                if (problems)
                    problems->push_back(
                        {name,
                         "is a symbolic link to a folder outside the migrations folder; "
                         "pgmig follows links only inside it"});
                continue;
            }
        }
        out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

Signals look(const fs::path &dir, const SqlFiles &files) {
    Signals s;
    for (const auto &d : diesel_dirs(dir)) {
        s.diesel = true;
        if (s.diesel_example.empty()) s.diesel_example = d.filename().string() + "/up.sql";
    }
    for (const auto &path : files.files) {
        const std::string f = path.filename().string();
        if (std::regex_match(f, kFlyway) || std::regex_match(f, kFlywayRepeatable)) {
            s.flyway = true;
            if (s.flyway_example.empty()) s.flyway_example = f;
            continue;
        }
        if (ends_with(f, ".up.sql") || ends_with(f, ".down.sql") || ends_with(f, ".verify.sql")) {
            s.updown = true;
            if (s.updown_example.empty()) s.updown_example = f;
            s.verify = s.verify || ends_with(f, ".verify.sql");
            std::smatch m;
            if (std::regex_match(f, m, kPop) && pop_marks_known(m[3].str())) {
                s.pop_marker = true;
                if (s.pop_example.empty()) s.pop_example = f;
            }
            if (starts_with_sqlx_no_transaction(path)) {
                s.sqlx_marker = true;
                if (s.sqlx_example.empty()) s.sqlx_example = f;
            }
            continue;
        }
        if (std::regex_match(f, kSingle)) {
            s.single = true;
            if (s.single_example.empty()) s.single_example = f;
            if (file_has_dbmate_marker(path)) {
                s.dbmate_marker = true;
                if (s.dbmate_example.empty()) s.dbmate_example = f;
            }
        }
    }
    return s;
}

// The layout the folder's files say, and which file said it.
Layout detect(const fs::path &dir, const Signals &s, std::string *how) {
    std::vector<std::string> kinds;
    if (s.diesel) kinds.push_back("Diesel folders (" + s.diesel_example + ")");
    if (s.flyway) kinds.push_back("Flyway files (" + s.flyway_example + ")");
    if (s.updown) kinds.push_back(".up.sql/.down.sql files (" + s.updown_example + ")");
    if (s.single) kinds.push_back("<version>_<name>.sql files (" + s.single_example + ")");
    // No tool mixes these (sqlx refuses a folder of both kinds): a stray file must not turn
    // the folder into another layout.
    if (kinds.size() > 1) {
        std::string list;
        for (const auto &k : kinds) list += (list.empty() ? "" : ", ") + k;
        std::string names;
        for (Layout l : all_layouts()) names += (names.empty() ? "" : ", ") + layout_name(l);
        throw std::runtime_error("cannot tell the layout of the migrations folder " +
                                 escape_for_terminal(dir.string()) + ": it holds " + list +
                                 "; name it with --format (" + names + ")");
    }
    if (s.diesel) {
        *how = "Diesel's migration folders (" + s.diesel_example + ")";
        return Layout::diesel;
    }
    if (s.flyway) {
        *how = "Flyway's file names (" + s.flyway_example + ")";
        return Layout::flyway;
    }
    if (s.single && s.dbmate_marker) {
        *how = "dbmate's -- migrate:up sections (" + s.dbmate_example + ")";
        return Layout::dbmate;
    }
    if (s.single) {
        *how = "one <version>_<name>.sql file per migration, without dbmate's sections (" +
               s.single_example + ")";
        return Layout::sqlx;
    }
    if (s.pop_marker) {
        *how = "pop's dialect or .autocommit marks (" + s.pop_example + ")";
        return Layout::pop;
    }
    if (s.sqlx_marker) {
        *how = "sqlx's leading -- no-transaction (" + s.sqlx_example + ")";
        return Layout::sqlx;
    }
    if (s.updown && !s.verify) {
        *how = ".up.sql and .down.sql files (" + s.updown_example +
               "), read as pgmig's own layout, which golang-migrate's is";
        return Layout::pgmig;
    }
    *how = s.updown ? "pgmig's file names (" + s.updown_example + ")" : "an empty folder";
    return Layout::pgmig;
}

bool diesel_outside_transaction(const fs::path &folder) {
    // Only a plain file, and only its first 64 KiB: a link (to /dev/zero, say) is not read.
    const fs::path path = folder / "metadata.toml";
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(path, ec))) return false;
    std::istringstream in(head_of(path, 64 * 1024));
    std::string line;
    static const std::regex kLine(R"(^\s*run_in_transaction\s*=\s*false\s*(#.*)?\r?$)");
    while (std::getline(in, line))
        if (std::regex_match(line, kLine)) return true;
    return false;
}

}  // namespace

std::optional<std::string> flyway_version(std::string_view version, std::string *why) {
    std::vector<std::string> parts(1);
    for (char c : version) {
        if (c == '.' || c == '_')
            parts.emplace_back();
        else if (c >= '0' && c <= '9')
            parts.back() += c;
        else {
            *why = "a Flyway version is digits separated by dots or underscores";
            return std::nullopt;
        }
    }
    for (const auto &p : parts)
        if (p.empty()) {
            *why = "a Flyway version has an empty part (two separators in a row, or one at an end)";
            return std::nullopt;
        }
    if (parts.size() > 4) {
        *why = "pgmig reads Flyway versions of at most four parts (1.2.3.4)";
        return std::nullopt;
    }
    std::string first = parts[0];
    while (first.size() > 1 && first.front() == '0') first.erase(0, 1);
    if (first.size() > 14) {
        *why = "the first part of a Flyway version may have at most 14 digits";
        return std::nullopt;
    }
    if (parts.size() == 1) {
        // One part: the version itself, with room for the later parts of its neighbours.
        return first + std::string(18, '0');
    }
    std::string out = first;
    for (size_t i = 1; i < 4; ++i) {
        std::string p = i < parts.size() ? parts[i] : "0";
        while (p.size() > 1 && p.front() == '0') p.erase(0, 1);
        if (p.size() > 6) {
            *why = "a later part of a Flyway version may have at most 6 digits";
            return std::nullopt;
        }
        out += std::string(6 - p.size(), '0') + p;
    }
    return out;
}

std::optional<DbmateSections> dbmate_sections(std::string_view text, std::string *why) {
    DbmateSections out;
    enum { before, in_up, in_down } where = before;
    bool seen_up = false;
    size_t pos = 0;
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) pos = 3;
    const auto no_transaction = [](const std::string &options) {
        return options.find("transaction:false") != std::string::npos;
    };
    while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        const size_t next = end == std::string_view::npos ? text.size() : end + 1;
        const std::string_view line = text.substr(pos, next - pos);
        if (auto options = dbmate_marker(line, "up")) {
            if (seen_up) {
                *why = "has two -- migrate:up lines";
                return std::nullopt;
            }
            if (out.has_down) {
                *why =
                    "has its -- migrate:down section before -- migrate:up (dbmate refuses "
                    "that too)";
                return std::nullopt;
            }
            seen_up = true;
            where = in_up;
            out.up_no_transaction = no_transaction(*options);
        } else if (auto options = dbmate_marker(line, "down")) {
            if (out.has_down) {
                *why = "has two -- migrate:down lines";
                return std::nullopt;
            }
            out.has_down = true;
            where = in_down;
            out.down_no_transaction = no_transaction(*options);
        } else if (where == in_up) {
            out.up.append(line);
        } else if (where == in_down) {
            out.down.append(line);
        } else {
            // Before the first section only blank lines and comments: dbmate would refuse SQL
            // there, and pgmig must not drop it silently.
            std::string_view bare = line;
            while (!bare.empty() && std::isspace(static_cast<unsigned char>(bare.front())))
                bare.remove_prefix(1);
            if (!bare.empty() && bare.rfind("--", 0) != 0) {
                *why = "has SQL before its -- migrate:up line";
                return std::nullopt;
            }
        }
        pos = next;
    }
    if (!seen_up) {
        *why = "has no -- migrate:up line (dbmate's sections: -- migrate:up, then -- migrate:down)";
        return std::nullopt;
    }
    return out;
}

std::string with_no_transaction_directive(std::string text, const std::string &mark) {
    if (mark.empty()) return text;
    return "-- pgmig:no-transaction (" + mark + ")\n" + text;
}

LayoutListing list_layout(const fs::path &dir, std::optional<Layout> format) {
    LayoutListing out;
    SqlFiles files = list_sql_files(dir);
    out.problems = std::move(files.problems);
    if (format) {
        out.layout = *format;
        out.how_found = "--format " + layout_name(*format);
    } else {
        out.layout = detect(dir, look(dir, files), &out.how_found);
    }
    const auto problem = [&out](const std::string &file, const std::string &why) {
        out.problems.push_back({escape_for_terminal(file), why});
    };
    switch (out.layout) {
        case Layout::pgmig:
        case Layout::golang_migrate:
            for (const auto &path : files.files) {
                const std::string f = path.filename().string();
                std::string why;
                auto parsed = parse_file_name(f, &why);
                if (!parsed) {
                    problem(f, why);
                    continue;
                }
                out.scripts.push_back({parsed->version, parsed->name, parsed->kind, path,
                                       LayoutScript::Part::whole, "", parsed->version});
            }
            break;
        case Layout::sqlx:
            for (const auto &path : files.files) {
                const std::string f = path.filename().string();
                const std::string mark =
                    starts_with_sqlx_no_transaction(path) ? "sqlx: -- no-transaction" : "";
                std::string why;
                if (ends_with(f, ".up.sql") || ends_with(f, ".down.sql")) {
                    auto parsed = parse_file_name(f, &why);
                    if (!parsed) {
                        problem(f, why);
                        continue;
                    }
                    out.scripts.push_back({parsed->version, parsed->name, parsed->kind, path,
                                           LayoutScript::Part::whole, mark, parsed->version});
                    continue;
                }
                std::smatch m;
                if (!std::regex_match(f, m, kSingle)) {
                    problem(f, "expected <version>_<name>.sql, or .up.sql and .down.sql (sqlx)");
                    continue;
                }
                if (auto p = pgm::version_problem(m[1].str())) {
                    problem(f, *p);
                    continue;
                }
                out.scripts.push_back({m[1].str(), m[2].str(), "up", path,
                                       LayoutScript::Part::whole, mark, m[1].str()});
            }
            break;
        case Layout::dbmate:
            for (const auto &path : files.files) {
                const std::string f = path.filename().string();
                std::smatch m;
                if (!std::regex_match(f, m, kSingle) || ends_with(f, ".up.sql") ||
                    ends_with(f, ".down.sql")) {
                    problem(f,
                            "expected <version>_<name>.sql with -- migrate:up and -- migrate:down "
                            "sections (dbmate)");
                    continue;
                }
                if (auto p = pgm::version_problem(m[1].str())) {
                    problem(f, *p);
                    continue;
                }
                out.scripts.push_back({m[1].str(), m[2].str(), "up", path,
                                       LayoutScript::Part::dbmate_up, "", m[1].str()});
                out.scripts.push_back({m[1].str(), m[2].str(), "down", path,
                                       LayoutScript::Part::dbmate_down, "", m[1].str()});
            }
            break;
        case Layout::flyway:
            for (const auto &path : files.files) {
                const std::string f = path.filename().string();
                std::smatch m;
                if (std::regex_match(f, m, kFlywayRepeatable)) {
                    out.scripts.push_back(
                        {"", m[1].str(), "repeatable", path, LayoutScript::Part::whole, "", ""});
                    continue;
                }
                if (!std::regex_match(f, m, kFlyway)) {
                    problem(f,
                            "expected V<version>__<description>.sql, U<version>__<description>.sql "
                            "or R__<description>.sql (Flyway)");
                    continue;
                }
                std::string why;
                auto version = flyway_version(m[2].str(), &why);
                if (!version) {
                    problem(f, why);
                    continue;
                }
                std::string shown = m[2].str();
                std::replace(shown.begin(), shown.end(), '_', '.');
                out.scripts.push_back({*version, m[3].str(), m[1].str() == "V" ? "up" : "down",
                                       path, LayoutScript::Part::whole, "", shown});
            }
            break;
        case Layout::diesel: {
            for (const auto &path : files.files)
                problem(path.filename().string(),
                        "is not in a migration folder; Diesel keeps each migration in a folder "
                        "<YYYY-MM-DD-HHMMSS>_<name>/ holding up.sql and down.sql");
            for (const auto &folder : diesel_dirs(dir, &out.problems)) {
                const std::string d = folder.filename().string();
                std::smatch m;
                std::string version, name;
                if (std::regex_match(d, m, kDieselDir)) {
                    version = m[1].str() + m[2].str() + m[3].str() + m[4].str();
                    name = m[5].str();
                } else if (std::regex_match(d, m, kDieselPlainDir)) {
                    version = m[1].str();
                    name = m[2].str();
                }
                const std::string mark =
                    diesel_outside_transaction(folder) ? "diesel: run_in_transaction = false" : "";
                SqlFiles inner = list_sql_files(folder);
                for (auto &p : inner.problems)
                    out.problems.push_back({d + "/" + p.file, p.problem});
                for (const auto &path : inner.files) {
                    const std::string f = path.filename().string();
                    if (f != "up.sql" && f != "down.sql") {
                        out.ignored.push_back(d + "/" + f +
                                              " (Diesel runs only up.sql and down.sql)");
                        continue;
                    }
                    out.scripts.push_back({version, name, f == "up.sql" ? "up" : "down", path,
                                           LayoutScript::Part::whole, mark, d});
                }
            }
            break;
        }
        case Layout::pop: {
            // fizz migrations are not .sql files, so they are not listed: name them, since
            // skipping them would skip migrations.
            for (const auto &entry : fs::directory_iterator(dir))
                if (entry.path().extension() == ".fizz")
                    problem(entry.path().filename().string(),
                            "is a fizz migration, which pgmig cannot run: convert it to SQL");
            // A file for PostgreSQL replaces the generic one of the same version and kind.
            std::map<std::pair<std::string, std::string>, LayoutScript> chosen;
            std::set<std::pair<std::string, std::string>> specific;
            for (const auto &path : files.files) {
                const std::string f = path.filename().string();
                std::smatch m;
                if (!std::regex_match(f, m, kPop)) {
                    problem(f,
                            "expected <version>_<name>[.postgres][.autocommit].up.sql or .down.sql "
                            "(pop)");
                    continue;
                }
                if (m[6].str() == "fizz") {
                    problem(f,
                            "is a fizz migration, which pgmig cannot run: convert it to SQL "
                            "(soda generate sql)");
                    continue;
                }
                bool postgres = false, autocommit = false, other = false, unknown = false;
                std::string marks = m[3].str();
                for (size_t at = 0; at < marks.size();) {
                    const size_t next = marks.find('.', at + 1);
                    const std::string mark = marks.substr(
                        at + 1, (next == std::string::npos ? marks.size() : next) - at - 1);
                    if (mark == "postgres" || mark == "postgresql")
                        postgres = true;
                    else if (mark == "autocommit")
                        autocommit = true;
                    else if (pop_mark_known(mark))
                        other = true;
                    else
                        unknown = true;
                    at = next == std::string::npos ? marks.size() : next;
                }
                if (unknown) {
                    problem(f, "has a mark pop does not know (" + marks +
                                   "): expected .postgres, another database's name, or "
                                   ".autocommit");
                    continue;
                }
                if (other) {
                    out.ignored.push_back(f + " (for another database)");
                    continue;
                }
                if (auto p = pgm::version_problem(m[1].str())) {
                    problem(f, *p);
                    continue;
                }
                const auto key = std::make_pair(m[1].str(), m[5].str());
                if (!postgres && specific.count(key)) {
                    out.ignored.push_back(f + " (the .postgres file of this version replaces it)");
                    continue;
                }
                auto it = chosen.find(key);
                if (it != chosen.end()) {
                    if (!postgres) {
                        problem(f, "version " + m[1].str() + " has two " + m[5].str() + " files");
                        continue;
                    }
                    out.ignored.push_back(it->second.path.filename().string() +
                                          " (the .postgres file of this version replaces it)");
                }
                if (postgres) specific.insert(key);
                chosen[key] = {m[1].str(),
                               m[2].str(),
                               m[5].str(),
                               path,
                               LayoutScript::Part::whole,
                               autocommit ? "pop: .autocommit" : "",
                               m[1].str()};
            }
            for (auto &[key, script] : chosen) out.scripts.push_back(std::move(script));
            break;
        }
    }
    return out;
}

}  // namespace pgmig::migrations
