// pgmig run-all: the one-command initialization of the seed scenario: pre-flight, snapshots
// of the tables to protect, migrations, seeds, validation and a health report, step by step,
// with a summary at the end. Stops at the first step that fails.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migrations/registration.hpp"
#include "migrations/terminal_text.hpp"
#include "ui/output.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>

namespace pgmig::commands {

namespace {

struct RunAllOptions {
    std::string to;
    std::string seeds = "seeds";
    std::vector<std::string> snapshot_tables;
    bool skip_preflight = false, skip_seed = false, skip_validate = false;
};

struct Step {
    std::string name;
    std::function<int()> run;
    bool skipped;
};

}  // namespace

void setup_run_all(CLI::App &app, GlobalOptions &global, Run &run) {
    auto opts = std::make_shared<RunAllOptions>();
    auto *cmd = app.add_subcommand(
        "run-all", "Pre-flight, snapshots, migrations, seeds, validation and health, step by step");
    cmd->add_option("--to", opts->to, "Apply migrations up to and including this version");
    cmd->add_option("--seeds", opts->seeds, "Seed folder (default: seeds; skipped if missing)");
    cmd->add_option("--snapshot", opts->snapshot_tables,
                    "Snapshot this table before migrating (repeatable)");
    cmd->add_flag("--skip-preflight", opts->skip_preflight, "Skip the pre-flight checks");
    cmd->add_flag("--skip-seed", opts->skip_seed, "Skip the seed files");
    cmd->add_flag("--skip-validate", opts->skip_validate, "Skip the validation checks");
    cmd->footer(
        "Steps: preflight -> snapshot -> up -> seed -> validate -> health. Each prints its own\n"
        "report; a failing step stops the run with its exit code (3 for a refusing\n"
        "pre-flight, 2 for a usage error). With --json the steps' reports go to stderr\n"
        "and stdout holds {\"steps\": [{\"step\", \"result\", \"seconds\", \"exit_code\",\n"
        "\"error\"}], \"exit_code\"}.\n\n"
        "Example:\n  pgmig run-all --snapshot user_profiles");
    cmd->callback([opts, &global, &run] {
        run = [opts, &global] {
            GlobalOptions human = global;
            human.json = false;
            std::vector<Step> steps;
            steps.push_back({"preflight", [&] { return run_preflight(opts->to, human); },
                             opts->skip_preflight});
            steps.push_back({"snapshot",
                             [&] {
                                 db::Connection conn(human.connection.db);
                                 migrations::require_extension(conn);
                                 for (const auto &t : opts->snapshot_tables) {
                                     const auto table = conn.resolve_relation(t);
                                     if (!table)
                                         throw UsageError("--snapshot " + t +
                                                          ": no such table on the search_path");
                                     auto r = conn.query(
                                         "SELECT @extschema@.snapshot_create($1::oid::regclass, "
                                         "'pgmig run-all')",
                                         {*table});
                                     std::cout << "snapshot " << r.rows.at(0).at(0).value_or("")
                                               << " of " << t << "\n";
                                 }
                                 return 0;
                             },
                             opts->snapshot_tables.empty()});
            UpOptions up;
            up.to = opts->to;
            up.no_preflight = true;  // the preflight step ran (or was skipped on purpose)
            steps.push_back({"up", [&] { return run_up(up, human); }, false});
            SeedOptions seed;
            seed.dir = opts->seeds;
            steps.push_back({"seed", [&] { return run_seed(seed, human); },
                             opts->skip_seed || !std::filesystem::is_directory(opts->seeds)});
            steps.push_back(
                {"validate", [&] { return run_validate("", human); }, opts->skip_validate});
            steps.push_back({"health", [&] { return run_health(human); }, false});

            ui::Table summary{{"step", "result", "seconds"}, {}};
            nlohmann::json json_steps = nlohmann::json::array();
            int exit_code = 0;
            // With --json the steps' own reports go to stderr: stdout is the one document.
            std::streambuf *stdout_buffer = std::cout.rdbuf();
            struct RestoreStdout {
                std::streambuf *buffer;
                ~RestoreStdout() { std::cout.rdbuf(buffer); }
            } restore{stdout_buffer};
            if (global.json) std::cout.rdbuf(std::cerr.rdbuf());
            for (size_t i = 0; i < steps.size(); ++i) {
                const auto &step = steps[i];
                std::cout << "\n[" << i + 1 << "/" << steps.size() << "] " << step.name << "\n";
                if (step.skipped) {
                    std::cout << "skipped\n";
                    summary.rows.push_back({step.name, "skipped", ""});
                    json_steps.push_back({{"step", step.name}, {"result", "skipped"}});
                    continue;
                }
                const auto t0 = std::chrono::steady_clock::now();
                int code = 0;
                std::string error;
                // A step's exception means what it means for that command alone: a refusal
                // is 3, a usage error 2, anything else 1.
                try {
                    code = step.run();
                } catch (const RefusedBySafetyCheck &e) {
                    code = static_cast<int>(ExitCode::kRefusedBySafetyCheck);
                    error = e.what();
                } catch (const UsageError &e) {
                    code = static_cast<int>(ExitCode::kUsageError);
                    error = e.what();
                } catch (const db::DbError &e) {
                    code = static_cast<int>(ExitCode::kFailed);
                    error = e.describe();
                } catch (const std::exception &e) {
                    code = static_cast<int>(ExitCode::kFailed);
                    error = e.what();
                }
                if (!error.empty())
                    std::cerr << "pgmig: error: " << migrations::escape_for_terminal(error, true)
                              << "\n";
                char secs[32];
                snprintf(
                    secs, sizeof secs, "%.1f",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
                // health is a report: a critical overall does not undo the run that just worked.
                const bool failed = code != 0 && step.name != "health";
                const std::string result = failed ? "failed" : (code ? "warn" : "pass");
                summary.rows.push_back({step.name, ui::status_text(result), secs});
                nlohmann::json js = {{"step", step.name},
                                     {"result", result},
                                     {"seconds", std::stod(secs)},
                                     {"exit_code", code}};
                if (!error.empty()) js["error"] = error;
                json_steps.push_back(js);
                if (failed) {
                    exit_code = code;
                    for (size_t j = i + 1; j < steps.size(); ++j) {
                        summary.rows.push_back({steps[j].name, "not run", ""});
                        json_steps.push_back({{"step", steps[j].name}, {"result", "not run"}});
                    }
                    break;
                }
            }
            if (global.json) {
                std::cout.rdbuf(stdout_buffer);
                ui::print_json(std::cout, {{"steps", json_steps}, {"exit_code", exit_code}});
                return exit_code;
            }
            std::cout << "\nsummary\n";
            ui::print_table(std::cout, summary);
            return exit_code;
        };
    });
}

}  // namespace pgmig::commands
