// Guards of the migrate_backfill() procedure that need PostgreSQL's internals.
#include "pg/arguments.hpp"
#include "pg/canonical_text.hpp"
#include "pg/clause_parser.hpp"
#include "pg/session_limits.hpp"
#include "pg/error.hpp"
#include "snapshot_context.hpp"

namespace pgm {

namespace {

// Raises unless set_clause is only SET assignments and where_clause (when given) is only one
// expression, so that neither can end the statement they are pasted into or change its
// structure ("x = 1 WHERE false", "true) OR (true").
Datum backfill_clauses_check_impl(FunctionCallInfo fcinfo) {
    const auto set_clause = pg::text_arg(fcinfo, 0);
    const auto where_clause = pg::text_arg(fcinfo, 1);
    if (!set_clause) throw pg::UserError("22004", "set_clause must not be NULL");
    bool set_ok = false;
    try {
        set_ok = pg::is_only_assignments(*set_clause);
    } catch (const pg::PgError &e) {
        throw pg::UserError(
            "42601", std::string("set_clause does not parse: ") + e.what(), "",
            "set_clause is what follows SET in an UPDATE, e.g. 'new_role = old_role'.");
    }
    if (!set_ok)
        throw pg::UserError("42601", "set_clause must be only column assignments",
                            "It may not contain WHERE, FROM, RETURNING or another statement.",
                            "Put the row filter in where_clause.");
    if (where_clause) {
        bool where_ok = false;
        try {
            where_ok = pg::is_one_expression(*where_clause);
        } catch (const pg::PgError &e) {
            throw pg::UserError("42601",
                                std::string("where_clause is not one expression: ") + e.what(), "",
                                "where_clause is a condition such as 'new_role IS NULL'.");
        }
        if (!where_ok)
            throw pg::UserError("42601", "where_clause must be one condition",
                                "It may not contain FROM, ORDER BY, LIMIT, a second expression or "
                                "another statement.");
    }
    PG_RETURN_VOID();
}

// migrate_backfill() commits after every batch, which PostgreSQL allows only when CALL runs
// outside an explicit transaction block; say so before any work instead of failing later.
Datum backfill_require_no_transaction_block_impl(FunctionCallInfo fcinfo) {
    refuse_inside_migration("migrate_backfill()");
    if (pg::in_transaction_block())
        throw pg::UserError(
            "25001", "migrate_backfill() cannot run inside a transaction block",
            "It commits after every batch so that no batch holds its locks for long.",
            "CALL it on its own, outside BEGIN ... COMMIT (psql's autocommit, or a "
            "separate connection).");
    PG_RETURN_VOID();
}

// The columns a set_clause assigns (already checked by backfill_clauses_check), so that the
// procedure can refuse assignments to the key it paginates on.
Datum backfill_set_columns_impl(FunctionCallInfo fcinfo) {
    const auto set_clause = pg::text_arg(fcinfo, 0);
    if (!set_clause) PG_RETURN_NULL();
    return pg::text_array_datum(pg::assigned_columns(*set_clause));
}

// A key value as settings-independent text (pg/canonical_text.hpp).
Datum backfill_key_text_impl(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    const Oid type = pg::argument_type(fcinfo, 0);
    if (!OidIsValid(type)) throw pg::UserError("42804", "backfill_key_text: unknown argument type");
    return pg::text_datum(pg::canonical_output(type, PG_GETARG_DATUM(0)));
}

// The value of such text, typed like the second argument (a NULL of the key's type).
Datum backfill_key_value_impl(FunctionCallInfo fcinfo) {
    const auto text = pg::text_arg(fcinfo, 0);
    if (!text) PG_RETURN_NULL();
    const Oid type = pg::argument_type(fcinfo, 1);
    if (!OidIsValid(type))
        throw pg::UserError("42804", "backfill_key_value: unknown argument type");
    return pg::canonical_input(type, *text);
}

}  // namespace

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_backfill_set_columns);
Datum pgm_backfill_set_columns(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::backfill_set_columns_impl);
}
PG_FUNCTION_INFO_V1(pgm_backfill_key_text);
Datum pgm_backfill_key_text(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::backfill_key_text_impl);
}
PG_FUNCTION_INFO_V1(pgm_backfill_key_value);
Datum pgm_backfill_key_value(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::backfill_key_value_impl);
}
PG_FUNCTION_INFO_V1(pgm_backfill_clauses_check);
Datum pgm_backfill_clauses_check(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::backfill_clauses_check_impl);
}
PG_FUNCTION_INFO_V1(pgm_backfill_require_no_transaction_block);
Datum pgm_backfill_require_no_transaction_block(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::backfill_require_no_transaction_block_impl);
}
}
