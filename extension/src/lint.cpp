// migrate_lint() and migrate_statement_locks(): what a script would do to a live database.
#include "pg/arguments.hpp"
#include "pg/error.hpp"
#include "pg/result_rows.hpp"
#include "pg/spi.hpp"
#include "pg/statement_analysis.hpp"

namespace pgm {

namespace {

std::vector<pg::StatementAnalysis> analyze_arg(FunctionCallInfo fcinfo) {
    const auto script = pg::text_arg(fcinfo, 0);
    if (!script) throw pg::UserError("22004", "the script to lint must not be NULL");
    try {
        return pg::analyze_statements(*script);
    } catch (const pg::PgError &e) {
        throw pg::UserError(
            e.sqlstate(), std::string("the script does not parse: ") + e.what(),
            e.edata()->cursorpos > 0 ? "at character " + std::to_string(e.edata()->cursorpos) : "");
    }
}

Datum migrate_lint_impl(FunctionCallInfo fcinfo) {
    pg::spi_connect();
    const auto statements = analyze_arg(fcinfo);
    std::vector<pg::Row> rows;
    for (const auto &s : statements)
        for (const auto &f : s.findings)
            rows.push_back(
                {std::to_string(s.number), s.text, f.rule, f.severity, f.message, f.alternative});
    pg::spi_finish();
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

Datum migrate_statement_locks_impl(FunctionCallInfo fcinfo) {
    pg::spi_connect();
    const auto statements = analyze_arg(fcinfo);
    std::vector<pg::Row> rows;
    for (const auto &s : statements)
        for (const auto &l : s.locks)
            rows.push_back({std::to_string(s.number), s.command, l.table, l.lock_mode,
                            std::string(l.exists ? "t" : "f")});
    pg::spi_finish();
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

Datum migrate_data_expectations_impl(FunctionCallInfo fcinfo) {
    pg::spi_connect();
    const auto statements = analyze_arg(fcinfo);
    std::vector<pg::Row> rows;
    for (const auto &s : statements)
        for (const auto &e : s.expectations) {
            std::string columns = "{";
            for (size_t i = 0; i < e.columns.size(); ++i) {
                std::string quoted;
                for (char c : e.columns[i]) {
                    if (c == '"' || c == '\\') quoted += '\\';
                    quoted += c;
                }
                columns += (i ? ",\"" : "\"") + quoted + "\"";
            }
            columns += "}";
            rows.push_back({std::to_string(s.number), e.kind, e.table, columns,
                            e.expression.empty() ? pg::Value() : pg::Value(e.expression),
                            e.constraint});
        }
    pg::spi_finish();
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

}  // namespace

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_migrate_lint);
Datum pgm_migrate_lint(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_lint_impl);
}
PG_FUNCTION_INFO_V1(pgm_migrate_data_expectations);
Datum pgm_migrate_data_expectations(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_data_expectations_impl);
}
PG_FUNCTION_INFO_V1(pgm_migrate_statement_locks);
Datum pgm_migrate_statement_locks(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_statement_locks_impl);
}
}
