// CLI11's parse errors in pgmig's words: "unknown option -d" for "The following argument was
// not expected: -d", "--rows must be a whole number, got \"abc\"" for "Could not convert:
// --rows = abc", "--rows must be at least 1" for a range printed with 309 digits.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace pgmig {

// The message for `error`, thrown while parsing `app`'s command line (the app is searched for
// the option an error names, to say what kind of value it takes).
std::string usage_message(const CLI::ParseError &error, const CLI::App &app);

}  // namespace pgmig
