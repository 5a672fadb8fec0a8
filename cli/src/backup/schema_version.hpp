// The migration a database's data belongs to: the last migration pg_migrate applied. A
// backup records it; a restore accepts only a target at the same one.
#pragma once

#include <optional>
#include <string>

namespace pgmig::db {
class Connection;
}

namespace pgmig::backup {

// Nothing when pg_migrate is not installed, the role cannot read its registry, or no
// migration is applied.
std::optional<std::string> last_applied_migration(db::Connection &conn);

}  // namespace pgmig::backup
