// Values as text that means the same in every session: output and input under fixed
// DateStyle, IntervalStyle, extra_float_digits, TimeZone and bytea_output. A backfill's
// resume key is stored this way, so a run resumed in a session with other settings reads it
// back as the same value.
#pragma once

#include "pg/postgres.hpp"

#include <string>

namespace pgm::pg {

std::string canonical_output(Oid type, Datum value);
Datum canonical_input(Oid type, const std::string &text);

}  // namespace pgm::pg
