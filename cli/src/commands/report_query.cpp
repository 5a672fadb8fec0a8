#include "commands/report_query.hpp"

#include "ui/output.hpp"

#include <iostream>

namespace pgmig::commands {

namespace {

// A value as JSON of its SQL type: booleans and numbers as themselves, json as JSON, the
// rest as text (type OIDs of pg_type, fixed since PostgreSQL 7).
nlohmann::json typed_value(const std::string &text, unsigned type) {
    switch (type) {
        case 16:  // bool
            return text == "t";
        case 20:  // int8
        case 21:  // int2
        case 23:  // int4
            return std::stoll(text);
        case 700:   // float4
        case 701:   // float8
        case 1700:  // numeric
            if (text == "NaN" || text == "Infinity" || text == "-Infinity") return text;
            return std::stod(text);
        case 114:   // json
        case 3802:  // jsonb
            return nlohmann::json::parse(text, nullptr, false);
        default:
            return text;
    }
}

}  // namespace

void print_result(const GlobalOptions &global, const db::Result &result, int status_column) {
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &row : result.rows) {
            nlohmann::json obj = nlohmann::json::object();
            for (size_t c = 0; c < result.columns.size(); ++c)
                obj[result.columns[c]] =
                    row[c]
                        ? typed_value(*row[c],
                                      c < result.column_types.size() ? result.column_types[c] : 0)
                        : nlohmann::json();
            out.push_back(obj);
        }
        ui::print_json(std::cout, out);
        return;
    }
    ui::Table table{result.columns, {}};
    for (const auto &row : result.rows) {
        std::vector<std::string> cells;
        for (size_t c = 0; c < row.size(); ++c) {
            std::string v = row[c].value_or("");
            cells.push_back(static_cast<int>(c) == status_column ? ui::status_text(v) : v);
        }
        table.rows.push_back(cells);
    }
    ui::print_table(std::cout, table);
}

}  // namespace pgmig::commands
