// The schema pg_migrate's functions were created in (CREATE EXTENSION ... SCHEMA), for calling
// them from C++ regardless of the caller's search_path.
#pragma once

#include <string>

namespace pgm {

// `name` qualified with the extension's schema, both quoted as identifiers when needed.
std::string extension_function(const char *name);

}  // namespace pgm
