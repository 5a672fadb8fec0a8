// pgmig monitor: a live view of the migrations and backfills other sessions are running,
// refreshed every --interval, ending by itself when the work ends.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migrations/registration.hpp"
#include "ui/activity_view.hpp"
#include "ui/output.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <thread>

namespace pgmig::commands {

namespace {

struct MonitorOptions {
    double interval_seconds = 1;
    double wait_seconds = 0;
    bool once = false;
};

std::string clock_text() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%H:%M:%S", std::localtime(&now));
    return text;
}

int run_monitor(const MonitorOptions &opts, const GlobalOptions &global) {
    if (!(opts.interval_seconds >= 0.1))
        throw UsageError("--interval must be at least 0.1 seconds");
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    // Not "pgmig": migrate_activity() counts sessions named pgmig as migration work.
    conn.exec("SET application_name = 'pgmig monitor'");
    const bool redraw = isatty(STDOUT_FILENO) && !global.json;
    const auto started = std::chrono::steady_clock::now();
    const auto interval = std::chrono::duration<double>(opts.interval_seconds);
    bool seen_work = false;
    for (;;) {
        const auto report =
            nlohmann::json::parse(conn.query("SELECT @extschema@.migrate_activity()::text")
                                      .rows.at(0)
                                      .at(0)
                                      .value_or("{}"));
        const bool work = ui::activity_has_work(report);
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        // Before any work appeared, keep quiet until --wait runs out (a script can start
        // the monitor just before the deploy it watches).
        const bool show = work || seen_work || opts.once || waited >= opts.wait_seconds;
        if (show) {
            if (global.json) {
                std::cout << report.dump() << "\n" << std::flush;  // one JSON object per line
            } else {
                if (redraw) std::cout << "\x1b[H\x1b[2J";
                std::cout << "pgmig monitor  " << clock_text() << "  every "
                          << opts.interval_seconds << "s" << (redraw ? "  (Ctrl-C to stop)" : "")
                          << "\n\n"
                          << ui::render_activity(report) << (redraw ? "" : "\n") << std::flush;
            }
        }
        if (work) seen_work = true;
        if (opts.once) return 0;
        if (!work && (seen_work || waited >= opts.wait_seconds)) {
            if (!global.json)
                std::cout << (seen_work ? "The work has ended.\n"
                                        : "Nothing to monitor: no migration or backfill is "
                                          "running.\n");
            return 0;
        }
        std::this_thread::sleep_for(interval);
    }
}

}  // namespace

void setup_monitor(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<MonitorOptions>();
    auto *cmd = app.add_subcommand(
        "monitor", "Live view of running migrations and backfills in other sessions");
    cmd->add_option("--interval", opts->interval_seconds, "Seconds between refreshes (default 1)")
        ->type_name("SECONDS");
    cmd->add_option("--wait", opts->wait_seconds,
                    "Wait up to this long for work to start before giving up (default 0)")
        ->type_name("SECONDS");
    cmd->add_flag("--once", opts->once, "Print one report and exit");
    cmd->footer(
        "Shows, for every session running migrate_execute, migrate_rollback or\n"
        "migrate_backfill (or connected as pgmig): the migration and statement it is on,\n"
        "elapsed time, the lock it waits for and the sessions blocking it; every running\n"
        "backfill with a progress bar, rate and ETA; and the server's connections, long\n"
        "transactions and lock waits. It ends by itself when the work ends. On a terminal\n"
        "the screen is redrawn; otherwise each refresh is printed below the last. --json\n"
        "prints one migrate_activity() report per line.\n"
        "Other users' statements are visible only to superusers and pg_read_all_stats.\n"
        "\n"
        "Examples:\n"
        "  pgmig monitor                      # in a second terminal while `pgmig up` runs\n"
        "  pgmig monitor --wait 30 --interval 0.5\n"
        "  pgmig monitor --once --json");
    cmd->callback(
        [opts, &global, &run] { run = [opts, &global] { return run_monitor(*opts, global); }; });
}

}  // namespace pgmig::commands
