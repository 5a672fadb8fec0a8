// Prints the rows of one of the extension's report functions as a table or JSON.
#pragma once

#include "commands/command.hpp"
#include "db/connection.hpp"

namespace pgmig::commands {

// `status_column` (or -1) is coloured in tables.
void print_result(const GlobalOptions &global, const db::Result &result, int status_column);

}  // namespace pgmig::commands
