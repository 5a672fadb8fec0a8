// Reading SQL arguments of a C function into C++ values.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>

namespace pgm::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n);
std::optional<bool> bool_arg(FunctionCallInfo fcinfo, int n);
std::optional<std::string> jsonb_arg_as_text(FunctionCallInfo fcinfo, int n);
Datum text_datum(const std::string &value);

}  // namespace pgm::pg
