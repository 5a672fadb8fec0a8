// Creating the pg_migrate extension in a database that lacks it: pgmig init, and pgmig up on
// a database that never had it.
#pragma once

#include "db/connection.hpp"

#include <optional>
#include <string>

namespace pgmig::migrations {

// The installed extension's version, or nullopt.
std::optional<std::string> installed_extension_version(db::Connection &conn);

// CREATE EXTENSION pg_migrate in `schema`, or else in the first existing schema of the user's
// search_path; warns (stderr) when roles other than superusers and the current one may create
// objects there. Throws std::runtime_error saying exactly what to run when the extension's
// files are not on the server or the role may not create it. Returns the version created.
std::string create_extension(db::Connection &conn, const std::string &schema);

}  // namespace pgmig::migrations
