#include "ui/activity_view.hpp"

#include "migrations/terminal_text.hpp"

#include "ui/progress.hpp"

#include <cmath>
#include <sstream>

namespace pgmig::ui {

namespace {

// A value of the report, escaped for the terminal: names and queries come from rows that other
// roles can write (a backfill's table_name, a session's query text).
std::string text(const nlohmann::json &j, const char *key) {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
    if (j[key].is_string()) return migrations::escape_for_terminal(j[key].get<std::string>(), true);
    return j[key].dump();
}

double number(const nlohmann::json &j, const char *key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
    return j[key].get<double>();
}

bool array_nonempty(const nlohmann::json &j, const char *key) {
    return j.is_object() && j.contains(key) && j[key].is_array() && !j[key].empty();
}

// One line, at most `width` characters: newlines and runs of spaces collapsed.
std::string one_line(const std::string &s, size_t width) {
    std::string out;
    bool space = false;
    for (char c : s) {
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += c;
    }
    if (out.size() > width) out = out.substr(0, width - 3) + "...";
    return out;
}

}  // namespace

bool activity_has_work(const nlohmann::json &report) {
    return array_nonempty(report, "sessions") || array_nonempty(report, "backfills");
}

std::string render_activity(const nlohmann::json &report) {
    std::ostringstream out;
    if (array_nonempty(report, "sessions")) {
        out << "Running\n";
        for (const auto &s : report["sessions"]) {
            out << "  pid " << text(s, "pid") << "  " << text(s, "user") << "  "
                << text(s, "application") << "  " << text(s, "state") << " "
                << format_seconds(number(s, "query_seconds")) << " (transaction "
                << format_seconds(number(s, "transaction_seconds")) << ")";
            if (!text(s, "wait").empty()) out << "  waiting on " << text(s, "wait");
            out << "\n    " << one_line(text(s, "activity"), 160) << "\n";
            if (array_nonempty(s, "waiting_for"))
                for (const auto &l : s["waiting_for"]) {
                    out << "    waits for " << text(l, "mode") << " on " << text(l, "lock");
                    if (!text(l, "relation").empty()) out << " " << text(l, "relation");
                    out << "\n";
                }
            if (array_nonempty(s, "blocked_by"))
                for (const auto &b : s["blocked_by"])
                    out << "    blocked by pid " << text(b, "pid") << " (" << text(b, "user")
                        << ", " << text(b, "state") << ", transaction "
                        << format_seconds(number(b, "transaction_seconds"))
                        << "): " << one_line(text(b, "query"), 100) << "\n";
        }
    }
    if (array_nonempty(report, "backfills")) {
        out << (array_nonempty(report, "sessions") ? "\n" : "") << "Backfills\n";
        for (const auto &b : report["backfills"]) {
            const double done = number(b, "rows_done"), total = number(b, "rows_estimated");
            const double percent = number(b, "percent");
            char figures[64];
            std::snprintf(figures, sizeof figures, "%5.1f%%", percent);
            out << "  #" << text(b, "id") << " " << text(b, "table_name") << " "
                << render_bar(percent / 100, 24) << " " << figures << "  "
                << group_thousands(static_cast<uint64_t>(done));
            if (total > 0) out << "/" << group_thousands(static_cast<uint64_t>(total));
            out << " rows  " << group_thousands(static_cast<uint64_t>(number(b, "rows_per_second")))
                << " rows/s  batches " << text(b, "batches");
            if (number(b, "retries") > 0) out << "  lock retries " << text(b, "retries");
            if (!text(b, "eta").empty()) out << "  ETA " << text(b, "eta");
            out << "\n";
        }
    }
    if (!activity_has_work(report)) out << "No migration or backfill is running.\n";
    const auto &server = report.contains("server") ? report["server"] : nlohmann::json::object();
    out << "\nServer: connections " << text(server, "connections") << "/"
        << text(server, "max_connections") << ", transactions open > 5 min "
        << text(server, "long_transactions") << ", lock waits " << text(server, "waiting_locks")
        << "\n";
    return out.str();
}

}  // namespace pgmig::ui
