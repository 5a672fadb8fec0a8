#include "ui/output.hpp"

#include "migrations/terminal_text.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace pgmig::ui {

namespace {

bool use_color() {
    static const bool color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
    return color;
}

// Display width: count UTF-8 code points, and ignore colour escape sequences.
size_t width(const std::string &s) {
    size_t w = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\x1b') {
            while (i < s.size() && s[i] != 'm') ++i;
            continue;
        }
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++w;
    }
    return w;
}

// A cell as it may reach the terminal: values come from the database, where other roles
// write names and messages, so control characters are escaped; the colour of status_text()
// is kept.
std::string printable(const std::string &cell) {
    static const std::string kReset = "\x1b[0m";
    if (cell.size() > 5 && cell[0] == '\x1b' && cell[1] == '[' &&
        cell.compare(cell.size() - kReset.size(), kReset.size(), kReset) == 0) {
        const size_t m = cell.find('m');
        if (m != std::string::npos && m < cell.size() - kReset.size())
            return cell.substr(0, m + 1) +
                   migrations::escape_for_terminal(
                       cell.substr(m + 1, cell.size() - kReset.size() - m - 1)) +
                   kReset;
    }
    return migrations::escape_for_terminal(cell);
}

}  // namespace

void print_table(std::ostream &out, const Table &given) {
    Table table{given.headers, {}};
    for (const auto &row : given.rows) {
        table.rows.emplace_back();
        for (const auto &cell : row) table.rows.back().push_back(printable(cell));
    }
    std::vector<size_t> widths(table.headers.size(), 0);
    for (size_t c = 0; c < table.headers.size(); ++c) widths[c] = width(table.headers[c]);
    for (const auto &row : table.rows)
        for (size_t c = 0; c < row.size() && c < widths.size(); ++c)
            widths[c] = std::max(widths[c], width(row[c]));
    auto line = [&](const std::vector<std::string> &cells) {
        std::string text;
        for (size_t c = 0; c < widths.size(); ++c) {
            const std::string cell = c < cells.size() ? cells[c] : "";
            text += cell;
            if (c + 1 < widths.size()) text += std::string(widths[c] - width(cell) + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') text.pop_back();
        out << text << "\n";
    };
    line(table.headers);
    std::vector<std::string> rule;
    for (size_t w : widths) rule.push_back(std::string(w, '-'));
    line(rule);
    for (const auto &row : table.rows) line(row);
}

std::string status_text(const std::string &status) {
    if (!use_color()) return status;
    const char *code = nullptr;
    if (status == "applied" || status == "pass" || status == "rolled_back" || status == "healthy")
        code = "32";
    else if (status == "failed" || status == "fail" || status == "modified" ||
             status == "renamed" || status == "missing-file" || status == "critical" ||
             status == "error")
        code = "31";
    else if (status == "pending" || status == "warn" || status == "warning" || status == "skipped")
        code = "33";
    if (!code) return status;
    return std::string("\x1b[") + code + "m" + status + "\x1b[0m";
}

void print_json(std::ostream &out, const nlohmann::json &value) {
    out << value.dump(2) << "\n";
}

std::string elapsed_ms(std::chrono::steady_clock::time_point start) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.3f",
             std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                 .count());
    return buf;
}

}  // namespace pgmig::ui
