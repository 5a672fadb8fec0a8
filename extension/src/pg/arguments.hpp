// Reading SQL arguments of a C function into C++ values.
#pragma once

#include "pg/postgres.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgm::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n);
std::optional<bool> bool_arg(FunctionCallInfo fcinfo, int n);
std::optional<std::string> jsonb_arg_as_text(FunctionCallInfo fcinfo, int n);
Datum text_datum(const std::string &value);
Datum text_array_datum(const std::vector<std::string> &values);  // text[]
// The actual type of argument n (for anyelement arguments); InvalidOid when unknown.
Oid argument_type(FunctionCallInfo fcinfo, int n);

}  // namespace pgm::pg
