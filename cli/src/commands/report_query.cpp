#include "commands/report_query.hpp"

#include "ui/output.hpp"

#include <iostream>

namespace pgmig::commands {

void print_result(const GlobalOptions &global, const db::Result &result, int status_column) {
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &row : result.rows) {
            nlohmann::json obj = nlohmann::json::object();
            for (size_t c = 0; c < result.columns.size(); ++c)
                obj[result.columns[c]] = row[c] ? nlohmann::json(*row[c]) : nlohmann::json();
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
