#include "migrations/migration_files.hpp"

#include "exit_code.hpp"
#include "migration_version.hpp"
#include "migrations/folder_layout.hpp"
#include "migrations/terminal_text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
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
    if (auto problem = file_name_problem(file_name)) {
        *why = *problem;
        return std::nullopt;
    }
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

std::optional<std::string> file_name_problem(std::string_view file_name) {
    for (size_t i = 0; i < file_name.size();) {
        const size_t n = utf8_char_length(file_name, i);
        if (n == 0)
            return "the file name is not valid UTF-8 (byte " +
                   escape_for_terminal(file_name.substr(i, 1)).substr(1) + "); rename the file";
        const std::string escaped = escape_for_terminal(file_name.substr(i, n));
        if (escaped != file_name.substr(i, n))
            return "the file name contains the control character " + escaped + "; rename the file";
        i += n;
    }
    return std::nullopt;
}

SqlFiles list_sql_files(const std::filesystem::path &dir) {
    namespace fs = std::filesystem;
    SqlFiles out;
    std::error_code ec;
    const fs::path root = fs::canonical(dir, ec);
    if (ec)
        throw std::runtime_error("cannot read the folder " + escape_for_terminal(dir.string()) +
                                 ": " + ec.message());
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".sql") continue;
        const std::string file = entry.path().filename().string();
        const std::string shown = escape_for_terminal(file);
        const fs::file_status status = entry.symlink_status();
        if (fs::is_symlink(status)) {
            // A link may point to another file of the folder (or of a subfolder); one that
            // leads out of it would send that file, perhaps a secret, to the server and
            // have it quoted back in an error.
            const fs::path target = fs::canonical(entry.path(), ec);
            if (ec) {
                out.problems.push_back(
                    {shown, "is a symbolic link whose target does not exist; remove it"});
                continue;
            }
            const auto root_end =
                std::mismatch(root.begin(), root.end(), target.begin(), target.end()).first;
            if (root_end != root.end()) {
                out.problems.push_back(
                    {shown,
                     "is a symbolic link to a file outside the folder; pgmig follows links only "
                     "to files inside it: copy the file into the folder instead"});
                continue;
            }
            if (!fs::is_regular_file(target, ec)) continue;  // a link to a directory, like one
        } else if (!fs::is_regular_file(status)) {
            continue;
        }
        if (auto problem = file_name_problem(file)) {
            out.problems.push_back({shown, *problem});
            continue;
        }
        out.files.push_back(entry.path());
    }
    std::sort(out.files.begin(), out.files.end());
    std::sort(out.problems.begin(), out.problems.end(),
              [](const FolderProblem &a, const FolderProblem &b) { return a.file < b.file; });
    return out;
}

namespace {

// Reads the script at `path` into `*text`, or says why not. No byte is read from a regular
// file over the limit; from anything else (a pipe given to lint) at most one byte more.
std::optional<std::string> load_script(const std::filesystem::path &path, std::string *text) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return "cannot be read: " + std::string(std::strerror(errno));
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    const auto over_limit = [](const std::string &size) {
        return "is " + size + " bytes, over the limit of " + std::to_string(kMaxScriptBytes) +
               " bytes (64 MiB) for a script file: split it into several files, or load the "
               "data with COPY";
    };
    struct stat st;
    if (::fstat(fd, &st) != 0) return "cannot be read: " + std::string(std::strerror(errno));
    if (S_ISDIR(st.st_mode)) return std::string("is a directory, not a script file");
    if (S_ISREG(st.st_mode)) {
        if (static_cast<std::uintmax_t>(st.st_size) > kMaxScriptBytes)
            return over_limit(std::to_string(st.st_size));
        text->reserve(static_cast<size_t>(st.st_size));
    }
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return "cannot be read: " + std::string(std::strerror(errno));
        if (n == 0) break;
        text->append(buffer, static_cast<size_t>(n));
        if (text->size() > kMaxScriptBytes)
            return over_limit("more than " + std::to_string(kMaxScriptBytes));
    }
    if (auto problem = script_bytes_problem(*text)) return problem;
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (std::string_view(*text).substr(0, kBom.size()) == kBom) text->erase(0, kBom.size());
    return std::nullopt;
}

// The line (from 1) that the byte at `offset` is on.
int line_of_byte(std::string_view text, size_t offset) {
    int line = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i)
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')))
            ++line;
    return line;
}

}  // namespace

std::optional<std::string> script_bytes_problem(std::string_view bytes) {
    const auto where = [&bytes](size_t offset) {
        return "at line " + std::to_string(line_of_byte(bytes, offset)) + ", byte offset " +
               std::to_string(offset);
    };
    for (size_t i = 0; i < bytes.size();) {
        if (bytes[i] == '\0')
            return "contains a NUL byte " + where(i) +
                   "; PostgreSQL cannot take a NUL in SQL text, so the script would be sent cut "
                   "short there: remove it";
        const size_t n = utf8_char_length(bytes, i);
        if (n == 0) {
            char byte[8];
            std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(bytes[i]));
            return "is not valid UTF-8 " + where(i) + " (byte " + byte +
                   "); script files must be UTF-8: convert it (for example with iconv -f "
                   "LATIN1 -t UTF-8)";
        }
        i += n;
    }
    return std::nullopt;
}

std::string read_file(const std::filesystem::path &path) {
    std::string text;
    if (auto problem = load_script(path, &text))
        throw std::runtime_error(escape_for_terminal(path.string()) + ": " + *problem);
    return text;
}

int line_of_character(std::string_view text, int char_position) {
    size_t offset = 0;
    for (int c = 1; c < char_position && offset < text.size(); ++c) {
        const size_t n = utf8_char_length(text, offset);
        offset += n == 0 ? 1 : n;
    }
    return line_of_byte(text, offset);
}

MigrationFolder read_folder(const std::filesystem::path &dir, const std::string &format) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir))
        throw std::runtime_error("migrations folder " + escape_for_terminal(dir.string()) +
                                 " does not exist (pgmig init creates it)");
    std::optional<Layout> layout;
    if (!format.empty()) {
        layout = parse_layout_name(format);
        if (!layout) {
            std::string names;
            for (Layout l : all_layouts()) names += (names.empty() ? "" : ", ") + layout_name(l);
            throw UsageError("unknown --format " + escape_for_terminal(format) +
                             "; the layouts pgmig reads are " + names);
        }
    }
    LayoutListing listing = list_layout(dir, layout);
    MigrationFolder folder;
    folder.problems = std::move(listing.problems);
    folder.layout = layout_name(listing.layout);
    folder.layout_found_by = listing.how_found;
    folder.ignored = std::move(listing.ignored);
    struct Slot {
        fs::path path;
        LayoutScript::Part part = LayoutScript::Part::whole;
        std::string mark;
    };
    struct Pending {
        MigrationFile m;
        Slot up, down, verify;
    };
    std::map<std::string, Pending> by_version;
    for (auto &script : listing.scripts) {
        const std::string file = escape_for_terminal(script.path.filename().string());
        if (script.kind == "repeatable") {
            RepeatableScript r{script.name, script.path, ""};
            if (auto problem = load_script(script.path, &r.sql))
                folder.problems.push_back({file, *problem});
            else
                folder.repeatables.push_back(std::move(r));
            continue;
        }
        auto it = by_version.find(script.version);
        if (it == by_version.end()) {
            Pending p;
            p.m.version = script.version;
            p.m.shown_version = script.shown_version;
            p.m.name = script.name;
            it = by_version.emplace(script.version, std::move(p)).first;
        } else if (it->second.m.name != script.name) {
            folder.problems.push_back({file, "version " + script.shown_version +
                                                 " is already used by \"" + it->second.m.name +
                                                 "\""});
            continue;
        }
        Slot &slot = script.kind == "up"     ? it->second.up
                     : script.kind == "down" ? it->second.down
                                             : it->second.verify;
        if (!slot.path.empty()) {
            // V1.1 and V1.01, or 1_a.sql and 1_a.up.sql: one version, two files.
            folder.problems.push_back(
                {file, "is a second " + script.kind + " script of version " + script.shown_version +
                           ", besides " + escape_for_terminal(slot.path.filename().string())});
            continue;
        }
        slot = {script.path, script.part, script.no_transaction_mark};
    }
    // Two spellings of one number ("001" and "1") are one version to the extension.
    std::map<std::string, std::string> numeric;
    for (auto &[version, pending] : by_version) {
        MigrationFile &m = pending.m;
        std::string stripped = version;
        while (stripped.size() > 1 && stripped.front() == '0') stripped.erase(0, 1);
        auto [it, fresh] = numeric.emplace(stripped, m.shown_version);
        if (!fresh) {
            folder.problems.push_back(
                {m.shown_version + "_" + m.name,
                 "version " + m.shown_version + " is the same number as " + it->second});
            continue;
        }
        if (pending.up.path.empty()) {
            folder.problems.push_back({m.shown_version + "_" + m.name,
                                       listing.layout == Layout::flyway
                                           ? "has an undo file but no V<version>__ file"
                                       : listing.layout == Layout::diesel ? "has no up.sql"
                                                                          : "has no .up.sql file"});
            continue;
        }
        m.up = pending.up.path;
        m.down = pending.down.path;
        m.verify = pending.verify.path;
        // Each script is read once, here: registration and status use this text.
        bool readable = true;
        std::map<fs::path, std::optional<DbmateSections>> sections;
        const auto load = [&](const Slot &slot, std::string *text) -> bool {
            if (auto problem = load_script(slot.path, text)) {
                folder.problems.push_back({slot.path.filename().string(), *problem});
                readable = false;
                return false;
            }
            if (slot.part != LayoutScript::Part::whole) {
                auto &s = sections[slot.path];
                std::string why;
                if (!s) s = dbmate_sections(*text, &why);
                if (!s) {
                    if (readable)  // the up and the down part of one file: said once
                        folder.problems.push_back({slot.path.filename().string(), why});
                    readable = false;
                    return false;
                }
                const bool up = slot.part == LayoutScript::Part::dbmate_up;
                if (!up && !s->has_down) return false;  // no down section: no down script
                *text = with_no_transaction_directive(
                    up ? s->up : s->down, (up ? s->up_no_transaction : s->down_no_transaction)
                                              ? "dbmate: transaction:false"
                                              : "");
                return true;
            }
            *text = with_no_transaction_directive(std::move(*text), slot.mark);
            return true;
        };
        load(pending.up, &m.up_sql);
        if (!pending.down.path.empty()) {
            std::string down;
            if (load(pending.down, &down)) m.down_sql = std::move(down);
            if (!m.down_sql) m.down.clear();
        }
        if (!pending.verify.path.empty()) {
            std::string verify;
            if (load(pending.verify, &verify)) m.verify_sql = std::move(verify);
        }
        if (readable) folder.migrations.push_back(std::move(m));
    }
    std::sort(folder.migrations.begin(), folder.migrations.end(),
              [](const MigrationFile &a, const MigrationFile &b) {
                  return pgm::compare_versions(a.version, b.version) < 0;
              });
    std::sort(folder.repeatables.begin(), folder.repeatables.end(),
              [](const RepeatableScript &a, const RepeatableScript &b) { return a.name < b.name; });
    std::stable_sort(
        folder.problems.begin(), folder.problems.end(),
        [](const FolderProblem &a, const FolderProblem &b) { return a.file < b.file; });
    return folder;
}

void require_no_problems(const MigrationFolder &folder) {
    if (folder.problems.empty()) return;
    std::string list;
    for (const auto &p : folder.problems) list += "\n  " + p.file + ": " + p.problem;
    throw std::runtime_error("the migrations folder has files pgmig cannot use:" + list);
}

}  // namespace pgmig::migrations
