// Returns rows from a set-returning C function (materialize mode), each cell given as text
// and converted with the column's input function.
#pragma once

#include "pg/postgres.hpp"
#include "pg/spi.hpp"

#include <vector>

namespace pgm::pg {

void return_rows(FunctionCallInfo fcinfo, const std::vector<Row> &rows);

}  // namespace pgm::pg
