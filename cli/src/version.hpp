// The release, printed by `pgmig --version`: the extension's default_version (the build
// reads it from extension/pg_migrate.control), so pgmig and the extension never disagree.
#pragma once

namespace pgmig {

inline constexpr const char *kVersion = PGM_VERSION;

}  // namespace pgmig
