#include "commands/interrupt_report.hpp"

#include "interrupt.hpp"
#include "migrations/terminal_text.hpp"

#include <csignal>
#include <iostream>

namespace pgmig::commands {

void report_interrupted(db::Connection &conn, const char *command) {
    interrupt::allow_report();
    std::cerr << "pgmig " << command << " was interrupted: the running statement was cancelled "
              << "and its transaction rolled back; nothing more was started.\n";
    try {
        auto r = conn.query(
            "SELECT version, name, state, (SELECT count(*) FROM pg_migrate.migration "
            "WHERE state = 'applied')::text FROM pg_migrate.migration "
            "WHERE state <> 'applied' ORDER BY version_order");
        std::string applied = "0";
        if (!r.rows.empty())
            applied = r.rows[0][3].value_or("0");
        else
            applied = conn.query(
                              "SELECT count(*)::text FROM pg_migrate.migration WHERE state = "
                              "'applied'")
                          .rows.at(0)
                          .at(0)
                          .value_or("0");
        std::cerr << "migrations applied: " << applied << "; not applied:";
        if (r.rows.empty()) std::cerr << " none";
        std::cerr << "\n";
        for (const auto &row : r.rows)
            std::cerr << "  " << row[0].value_or("") << "  "
                      << migrations::escape_for_terminal(row[1].value_or("")) << "  "
                      << row[2].value_or("") << "\n";
    } catch (const std::exception &e) {
        std::cerr << "(the state could not be read: " << e.what() << "; pgmig status shows it)\n";
    }
    const int sig = interrupt::signal_number();
    throw interrupt::Interrupted(std::string("interrupted by ") +
                                 (sig == SIGINT    ? "SIGINT (Ctrl-C)"
                                  : sig == SIGTERM ? "SIGTERM"
                                                   : "signal " + std::to_string(sig)));
}

}  // namespace pgmig::commands
