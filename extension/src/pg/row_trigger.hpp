// What a row-level trigger function was called for, and the row it hands back.
#pragma once

#include "pg/postgres.hpp"

#include <optional>

namespace pgm::pg {

enum class RowEvent { Insert, Update, Delete };

// The event of a FOR EACH ROW trigger call; nothing when the function was not called as one.
std::optional<RowEvent> row_trigger_event(FunctionCallInfo fcinfo);

// What a BEFORE row trigger returns to let the operation go ahead unchanged.
Datum row_trigger_proceed(FunctionCallInfo fcinfo);

}  // namespace pgm::pg
