// pgmig testdata generate|list|cleanup: realistic rows for development and load tests,
// tagged as batches so cleanup removes exactly what was generated.
#include "commands/command.hpp"
#include "db/connection.hpp"
#include "exit_code.hpp"
#include "migrations/registration.hpp"
#include "migrations/terminal_text.hpp"
#include "testdata/test_data.hpp"
#include "ui/output.hpp"
#include "ui/progress.hpp"

#include <iostream>
#include <memory>

namespace pgmig::commands {

namespace {

struct GenerateOptions {
    std::string table;
    int64_t rows = 0;
};

struct CleanupOptions {
    int64_t batch = 0;
    bool all = false;
    bool dry_run = false;
};

int run_generate(const GenerateOptions &opts, const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    const auto start = std::chrono::steady_clock::now();
    ui::ProgressBar bar("generating " + opts.table, static_cast<uint64_t>(opts.rows), "rows");
    const auto result =
        testdata::generate(conn, opts.table, opts.rows, [&bar](int64_t done) { bar.update(done); });
    bar.finish();
    const std::string ms = ui::elapsed_ms(start);
    if (global.json) {
        ui::print_json(std::cout, {{"batch", result.batch_id},
                                   {"table", result.table},
                                   {"rows", result.rows},
                                   {"duration_ms", std::stod(ms)}});
    } else {
        std::cout << "generated " << ui::group_thousands(result.rows) << " rows into "
                  << result.table << " as batch " << result.batch_id << " in " << ms << " ms\n"
                  << "remove them with: pgmig testdata cleanup --batch " << result.batch_id << "\n";
    }
    return 0;
}

int run_list(const GlobalOptions &global) {
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    const auto batches = testdata::list_batches(conn);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &b : batches)
            out.push_back({{"batch", b.id},
                           {"table", b.table},
                           {"rows", b.rows},
                           {"created_at", b.created_at},
                           {"created_by", b.created_by}});
        ui::print_json(std::cout, out);
    } else if (batches.empty()) {
        std::cout << "no test data batches\n";
    } else {
        ui::Table table{{"batch", "table", "rows", "created", "by"}, {}};
        for (const auto &b : batches)
            table.rows.push_back({std::to_string(b.id), b.table, ui::group_thousands(b.rows),
                                  b.created_at, b.created_by});
        ui::print_table(std::cout, table);
    }
    return 0;
}

int run_cleanup(const CleanupOptions &opts, const GlobalOptions &global) {
    if (opts.all == (opts.batch > 0))
        throw UsageError("testdata cleanup needs --batch ID or --all");
    db::Connection conn(global.connection.db);
    migrations::require_extension(conn);
    const auto results = testdata::cleanup(
        conn, opts.all ? std::nullopt : std::optional<int64_t>(opts.batch), opts.dry_run);
    if (global.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &r : results) {
            nlohmann::json row = {
                {"batch", r.batch_id},
                {"table", r.table},
                {opts.dry_run ? "rows_to_delete" : "rows_deleted", r.rows_deleted}};
            if (!r.recorded_by_other.empty()) row["left_alone_recorded_by"] = r.recorded_by_other;
            out.push_back(row);
        }
        ui::print_json(std::cout, out);
    } else if (results.empty()) {
        std::cout << "no test data batches\n";
    } else {
        ui::Table table{{"batch", "table", opts.dry_run ? "would delete" : "deleted"}, {}};
        for (const auto &r : results)
            table.rows.push_back({std::to_string(r.batch_id), r.table,
                                  r.recorded_by_other.empty()
                                      ? ui::group_thousands(r.rows_deleted)
                                      : "left alone: recorded by " + r.recorded_by_other});
        ui::print_table(std::cout, table);
        if (opts.dry_run) std::cout << "dry run: nothing was deleted\n";
    }
    for (const auto &r : results)
        if (!r.recorded_by_other.empty())
            std::cerr << "note: batch " << r.batch_id << " was recorded by "
                      << migrations::escape_for_terminal(r.recorded_by_other)
                      << "; only a session logged in as that role deletes its rows\n";
    return 0;
}

}  // namespace

void setup_testdata(CLI::App &app, GlobalOptions &global, Run &run) {
    auto *cmd = app.add_subcommand("testdata", "Generate realistic test rows, and remove them");
    cmd->require_subcommand(1);
    cmd->footer(
        "Generated rows are remembered by primary key (pg_migrate.testdata_batch and\n"
        "testdata_row), so cleanup deletes exactly them, never rows someone else wrote.\n"
        "\n"
        "Examples:\n"
        "  pgmig testdata generate --table customers --rows 1000\n"
        "  pgmig testdata generate --table orders --rows 100000   # samples customers\n"
        "  pgmig testdata list\n"
        "  pgmig testdata cleanup --batch 2\n"
        "  pgmig testdata cleanup --all --dry-run");

    auto gen = std::make_shared<GenerateOptions>();
    auto *g = cmd->add_subcommand("generate", "Fill a table with realistic, type-aware rows");
    g->add_option("--table", gen->table, "Table to fill (schema-qualified or on the search_path)")
        ->required()
        ->type_name("TABLE");
    g->add_option("--rows", gen->rows, "How many rows to add")
        ->required()
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    g->footer(
        "Values follow each column: its type (numbers, text, dates, uuid, jsonb, bytea,\n"
        "inet, enums, arrays), its name (email, name, city, phone, url, status, ...),\n"
        "NOT NULL (nullable columns get about 10% NULLs), CHECK constraints (IN lists\n"
        "give the values; rows another CHECK rejects are generated again), UNIQUE keys\n"
        "(values include a row number and the batch id) and foreign keys (each row\n"
        "references a parent sampled from the referenced table, which must have rows).\n"
        "Columns with a default (serial, identity, now()) keep it. The table needs a\n"
        "primary key. All rows are inserted in one transaction: all of them or none.\n"
        "\n"
        "Example:\n"
        "  pgmig testdata generate --table public.user_profiles --rows 100000");
    g->callback(
        [gen, &global, &run] { run = [gen, &global] { return run_generate(*gen, global); }; });

    auto *l = cmd->add_subcommand("list", "List the batches of generated rows");
    l->callback([&global, &run] { run = [&global] { return run_list(global); }; });

    auto clean = std::make_shared<CleanupOptions>();
    auto *c = cmd->add_subcommand("cleanup", "Delete the rows of one batch, or of all batches");
    c->add_option("--batch", clean->batch, "Batch to remove (pgmig testdata list)")
        ->check(CLI::PositiveNumber)
        ->type_name("ID");
    c->add_flag("--all", clean->all, "Remove every batch, newest first");
    c->add_flag("--dry-run", clean->dry_run, "Count what would be deleted; delete nothing");
    c->footer(
        "One transaction: a row another table still references stops the cleanup with\n"
        "that foreign key's error, and nothing is deleted. Remove child batches first,\n"
        "or use --all, which goes newest first.\n"
        "\n"
        "Examples:\n"
        "  pgmig testdata cleanup --batch 3\n"
        "  pgmig testdata cleanup --all");
    c->callback(
        [clean, &global, &run] { run = [clean, &global] { return run_cleanup(*clean, global); }; });
}

}  // namespace pgmig::commands
