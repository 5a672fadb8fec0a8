// What an event trigger function was called for.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgm::pg {

// The event ("ddl_command_start", "sql_drop", ...), or nothing when the function was not
// called as an event trigger.
std::optional<std::string> event_trigger_event(FunctionCallInfo fcinfo);

// At ddl_command_start of a DROP EXTENSION / DROP SCHEMA: the first of `names` it drops.
std::optional<std::string> dropped_extension_or_schema(FunctionCallInfo fcinfo,
                                                       const std::vector<std::string> &names);

}  // namespace pgm::pg
