// Migration version strings: digits only (a UTC timestamp from `pgmig new`, or 0001-style
// numbers from other tools), ordered by numeric value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pgm {

constexpr size_t kMaxVersionLength = 32;

// Why `version` is not a valid migration version, or nullopt when it is.
std::optional<std::string> version_problem(std::string_view version);

// Numeric comparison of two valid versions ("001" == "1", "9" < "10"): <0, 0, >0.
int compare_versions(std::string_view a, std::string_view b);

}  // namespace pgm
