#include "migration_version.hpp"

#include "cpp_only.hpp"  // last: no PostgreSQL in this file

namespace pgm {

std::optional<std::string> version_problem(std::string_view version) {
    if (version.empty()) return std::string("version is empty");
    if (version.size() > kMaxVersionLength)
        return "version has " + std::to_string(version.size()) + " characters; at most " +
               std::to_string(kMaxVersionLength) + " are allowed";
    for (char c : version)
        if (c < '0' || c > '9')
            return "version \"" + std::string(version) + "\" contains \"" + std::string(1, c) +
                   "\"; only the digits 0-9 are allowed";
    return std::nullopt;
}

static std::string_view strip_leading_zeros(std::string_view v) {
    while (v.size() > 1 && v.front() == '0') v.remove_prefix(1);
    return v;
}

int compare_versions(std::string_view a, std::string_view b) {
    a = strip_leading_zeros(a);
    b = strip_leading_zeros(b);
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace pgm
