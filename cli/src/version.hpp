// The pgmig release, printed by `pgmig --version`.
#pragma once

namespace pgmig {

inline constexpr const char *kVersion = "0.1.0";

}  // namespace pgmig
