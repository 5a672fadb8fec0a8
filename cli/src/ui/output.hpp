// Human output (aligned tables, colour only on a terminal without NO_COLOR) and JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

namespace pgmig::ui {

struct Table {
    std::vector<std::string> headers;
    std::vector<std::vector<std::string>> rows;
};

void print_table(std::ostream &out, const Table &table);

// Colour for a status word (applied/pass green, failed/fail red, warn/pending yellow) when
// stdout is a terminal and NO_COLOR is not set.
std::string status_text(const std::string &status);

void print_json(std::ostream &out, const nlohmann::json &value);

// Milliseconds since `start`, as the logs show durations ("12.345").
std::string elapsed_ms(std::chrono::steady_clock::time_point start);

}  // namespace pgmig::ui
