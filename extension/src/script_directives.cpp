#include "script_directives.hpp"

#include "cpp_only.hpp"  // last: no PostgreSQL in this file

namespace pgm {

static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::vector<ScriptDirective> parse_directives(std::string_view script) {
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    static constexpr std::string_view kPrefix = "pgmig:";
    if (script.substr(0, kBom.size()) == kBom) script.remove_prefix(kBom.size());
    std::vector<ScriptDirective> out;
    int line_no = 0;
    while (!script.empty()) {
        size_t eol = script.find_first_of("\r\n");
        std::string_view line = trim(script.substr(0, eol));
        if (eol == std::string_view::npos) {
            script = std::string_view();
        } else {
            // CRLF counts as one line break, a lone CR (old Mac) as one too.
            size_t next = eol + 1;
            if (script[eol] == '\r' && next < script.size() && script[next] == '\n') ++next;
            script = script.substr(next);
        }
        ++line_no;
        if (line.empty()) continue;
        if (line.substr(0, 2) != "--") break;
        std::string_view body = trim(line.substr(2));
        if (body.substr(0, kPrefix.size()) != kPrefix) continue;
        body.remove_prefix(kPrefix.size());
        size_t sp = body.find_first_of(" \t");
        ScriptDirective d;
        d.name = std::string(body.substr(0, sp));
        d.argument = sp == std::string_view::npos ? "" : std::string(trim(body.substr(sp)));
        d.line = line_no;
        if (!d.name.empty()) out.push_back(std::move(d));
    }
    return out;
}

bool has_directive(const std::vector<ScriptDirective> &directives, std::string_view name) {
    for (const auto &d : directives)
        if (d.name == name) return true;
    return false;
}

}  // namespace pgm
