// pgmig: assembles the command line, dispatches, and turns every outcome into one message
// and one documented exit code. Commands hold the work; main holds none.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <vector>
#include <iostream>
#include <string>
#include <string_view>

#include "commands/command.hpp"
#include "connection_options.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "interrupt.hpp"
#include "migrations/terminal_text.hpp"
#include "project_config.hpp"
#include "usage_message.hpp"
#include "version.hpp"

#include <nlohmann/json.hpp>

namespace pgmig {
namespace {

constexpr std::string_view kDescription =
    "pgmig - the companion CLI of the pg_migrate PostgreSQL extension.\n"
    "\n"
    "It drives pg_migrate from a folder of migration files\n"
    "(<version>_<name>.up.sql, .down.sql, optional .verify.sql): registers and applies\n"
    "them, runs what cannot run in a transaction, shows status and schema drift, and\n"
    "applies seed files.\n"
    "\n"
    "Commands: init, new, status, up, down, drift, seed, adopt, run-all, preflight, health,\n"
    "validate, lint, snapshot, monitor, testdata, repair, backup.\n"
    "`pgmig <command> --help` shows each command's options and examples.\n";

constexpr std::string_view kFooter =
    "Connection:\n"
    "  --db takes a libpq conninfo (\"host=db1 dbname=app user=deploy\") or a URL\n"
    "  (\"postgresql://deploy@db1:5432/app\"). Without --db, pgmig uses PGMIG_DB, then\n"
    "  DATABASE_URL, then db in pgmig.toml; without those, libpq's own environment\n"
    "  (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSERVICE, ...) and ~/.pgpass.\n"
    "\n"
    "Settings:\n"
    "  Any long option can be set in pgmig.toml (in the working directory, or\n"
    "  --config FILE) and as PGMIG_<OPTION> (PGMIG_LOCK_WAIT=30 is --lock-wait 30).\n"
    "  A flag wins over PGMIG_*, which wins over the file. In the file, top-level keys\n"
    "  are global options and a table is a command:\n"
    "    dir = \"db/migrations\"\n"
    "    [up]\n"
    "    lock-wait = 30\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the command failed (database, file or network error); see the message\n"
    "  2  usage error: the command line is wrong; no migration was applied\n"
    "  3  refused by a safety check; no migration was applied\n";

// --json anywhere before a "--": errors are JSON on stderr then, {"error", "exit_code"}. Read
// from argv itself, so that errors in parsing the command line are JSON too.
bool json_errors = false;

bool wants_json(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--") break;
        if (a == "--json" || a == "--json=true" || a == "--json=1") return true;
    }
    return false;
}

void print_error(std::string_view message, ExitCode code) {
    if (json_errors) {
        // JSON escapes control characters itself; the text is the same as without --json.
        std::cerr << nlohmann::json{{"error", std::string(message)},
                                    {"exit_code", static_cast<int>(code)}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
        return;
    }
    // Messages quote names and values from the database and from files: never raw.
    std::cerr << "pgmig: error: " << migrations::escape_for_terminal(message, true) << "\n";
}

void add_connection_options(CLI::App &app, ConnectionOptions &connection) {
    // DATABASE_URL is read with the other settings (project_config.hpp), below PGMIG_DB.
    app.add_option("--db", connection.db,
                   "Database to work on: libpq conninfo or postgresql:// URL")
        ->type_name("CONNINFO|URL");
}

int run(CLI::App &app, int argc, char **argv) {
    commands::GlobalOptions global;
    commands::Run command;
    app.description(std::string(kDescription));
    app.footer(std::string(kFooter));
    app.set_version_flag("--version", std::string("pgmig ") + kVersion);
    add_connection_options(app, global.connection);
    app.add_option("--dir", global.dir, "Migrations folder (default: migrations)")
        ->type_name("DIR");
    app.add_option("--format", global.format,
                   "Layout of the migrations folder: pgmig, golang-migrate, dbmate, flyway, sqlx, "
                   "diesel or pop (default: found from the files)")
        ->type_name("NAME");
    app.add_flag("--json", global.json, "Machine-readable output on stdout");
    app.require_subcommand(0, 1);
    app.fallthrough();  // global options (--db, --dir, --json) may follow the command too
    commands::setup_init(app, global, command);
    commands::setup_new(app, global, command);
    commands::setup_status(app, global, command);
    commands::setup_up(app, global, command);
    commands::setup_down(app, global, command);
    commands::setup_preflight(app, global, command);
    commands::setup_health(app, global, command);
    commands::setup_validate(app, global, command);
    commands::setup_lint(app, global, command);
    commands::setup_drift(app, global, command);
    commands::setup_seed(app, global, command);
    commands::setup_adopt(app, global, command);
    commands::setup_run_all(app, global, command);
    commands::setup_monitor(app, global, command);
    commands::setup_testdata(app, global, command);
    commands::setup_snapshot(app, global, command);
    commands::setup_repair(app, global, command);
    commands::setup_backup(app, global, command);

    // pgmig.toml (or --config FILE) and PGMIG_* variables: defaults the command line overrides.
    std::string config_file;
    app.add_option("--config", config_file,
                   "Project settings file (default: ./pgmig.toml when it exists)")
        ->type_name("FILE");
    std::vector<ConfigSetting> settings;
    if (const auto named = config_flag(argc, argv)) {
        if (!std::filesystem::is_regular_file(*named))
            throw UsageError("--config " + migrations::escape_for_terminal(*named) +
                             ": no such file");
        settings = read_config_file(*named);
    } else if (std::filesystem::is_regular_file("pgmig.toml")) {
        settings = read_config_file("pgmig.toml");
    }
    const auto environment = read_environment(long_option_names(app), [](const std::string &name) {
        const char *v = std::getenv(name.c_str());
        return v ? std::optional<std::string>(v) : std::nullopt;
    });
    settings.insert(settings.end(), environment.begin(), environment.end());
    apply_settings(app, settings);

    app.parse(argc, argv);
    if (global.json) json_errors = true;  // also when pgmig.toml or PGMIG_JSON set it

    if (!command) throw UsageError("no command given; run pgmig --help to see the commands");
    return command();
}

// The migrate_grant() purpose a command needs, for a permission error's hint ("" when none
// fits: init needs a superuser).
std::string purpose_of(const CLI::App &app) {
    for (const CLI::App *sub : app.get_subcommands()) {
        const std::string name = sub->get_name();
        if (name == "status" || name == "health" || name == "monitor") return "monitor";
        if (name == "repair" || name == "snapshot" || name == "testdata" || name == "backup")
            return name;
        if (name == "validate") return "validation";
        if (name == "init" || name == "new") return "";
        return "deploy";
    }
    return "";
}

// A permission error says which grants would have allowed the command.
std::string with_grant_hint(const db::DbError &e, const CLI::App &app) {
    std::string out = e.describe();
    const std::string purpose = purpose_of(app);
    if (e.sqlstate() != "42501" || purpose.empty()) return out;
    std::string command;
    for (const CLI::App *sub : app.get_subcommands()) command = sub->get_name();
    return out + "\n  pgmig " + command + " needs the '" + purpose +
           "' grants: a superuser (or the extension's owner) runs SELECT migrate_grant('<this "
           "role>', '" +
           purpose + "') (docs/security.md#grants-in-one-call-migrate_grant)";
}

}  // namespace
}  // namespace pgmig

int main(int argc, char **argv) {
    using pgmig::ExitCode;
    CLI::App app{"", "pgmig"};
    pgmig::interrupt::install();
    pgmig::json_errors = pgmig::wants_json(argc, argv);
    const auto failed = [] {
        return pgmig::interrupt::requested() ? static_cast<ExitCode>(pgmig::interrupt::kExitCode)
                                             : ExitCode::kFailed;
    };
    try {
        return pgmig::run(app, argc, argv);
    } catch (const CLI::Success &e) {
        return app.exit(e);  // --help or --version: printed to stdout
    } catch (const CLI::ParseError &e) {
        pgmig::print_error(pgmig::usage_message(e, app), ExitCode::kUsageError);
        if (!pgmig::json_errors) std::cerr << "Run pgmig --help for usage.\n";
        return static_cast<int>(ExitCode::kUsageError);
    } catch (const pgmig::interrupt::Interrupted &e) {
        pgmig::print_error(e.what(), static_cast<ExitCode>(pgmig::interrupt::kExitCode));
        return pgmig::interrupt::kExitCode;
    } catch (const pgmig::UsageError &e) {
        pgmig::print_error(e.what(), ExitCode::kUsageError);
        return static_cast<int>(ExitCode::kUsageError);
    } catch (const pgmig::db::DbError &e) {
        pgmig::print_error(pgmig::with_grant_hint(e, app), failed());
        return static_cast<int>(failed());
    } catch (const pgmig::RefusedBySafetyCheck &e) {
        pgmig::print_error(e.what(), ExitCode::kRefusedBySafetyCheck);
        return static_cast<int>(ExitCode::kRefusedBySafetyCheck);
    } catch (const std::exception &e) {
        pgmig::print_error(e.what(), failed());
        return static_cast<int>(failed());
    } catch (...) {
        pgmig::print_error("unexpected failure of an unknown kind", ExitCode::kFailed);
        return static_cast<int>(ExitCode::kFailed);
    }
}
