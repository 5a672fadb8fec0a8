// Guards of the migrate_backfill() procedure that need PostgreSQL's internals.
#include "pg/arguments.hpp"
#include "pg/canonical_text.hpp"
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
    const std::string update = "UPDATE pg_migrate_clause_check SET " + *set_clause + "\n";
    const char *update_text = update.c_str();
    bool set_ok = false;
    try {
        pg::guarded([update_text, &set_ok] {
            List *tree = raw_parser(update_text, RAW_PARSE_DEFAULT);
            if (list_length(tree) != 1) return;
            Node *stmt = linitial_node(RawStmt, tree)->stmt;
            if (!IsA(stmt, UpdateStmt)) return;
            UpdateStmt *u = castNode(UpdateStmt, stmt);
            set_ok = u->whereClause == nullptr && u->fromClause == NIL && u->returningList == NIL &&
                     u->withClause == nullptr;
        });
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
        const char *where_text = where_clause->c_str();
        bool where_ok = false;
        try {
            pg::guarded([where_text, &where_ok] {
                List *tree = raw_parser(where_text, RAW_PARSE_PLPGSQL_EXPR);
                if (list_length(tree) != 1) return;
                Node *stmt = linitial_node(RawStmt, tree)->stmt;
                if (!IsA(stmt, SelectStmt)) return;
                SelectStmt *sel = castNode(SelectStmt, stmt);
                where_ok = list_length(sel->targetList) == 1 && sel->fromClause == NIL &&
                           sel->whereClause == nullptr && sel->groupClause == NIL &&
                           sel->havingClause == nullptr && sel->windowClause == NIL &&
                           sel->sortClause == NIL && sel->limitCount == nullptr &&
                           sel->limitOffset == nullptr && sel->lockingClause == NIL &&
                           sel->distinctClause == NIL && sel->op == SETOP_NONE;
            });
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
    if (IsTransactionBlock())
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
    const std::string update = "UPDATE pg_migrate_clause_check SET " + *set_clause + "\n";
    const char *update_text = update.c_str();
    ArrayType *result = nullptr;
    pg::guarded([update_text, &result] {
        List *tree = raw_parser(update_text, RAW_PARSE_DEFAULT);
        UpdateStmt *u = castNode(UpdateStmt, linitial_node(RawStmt, tree)->stmt);
        const int n = list_length(u->targetList);
        Datum *names = static_cast<Datum *>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        int i = 0;
        ListCell *lc;
        foreach (lc, u->targetList) names[i++] = CStringGetTextDatum(lfirst_node(ResTarget, lc)->name);
        result = construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT);
    });
    PG_RETURN_ARRAYTYPE_P(result);
}

// A key value as settings-independent text (pg/canonical_text.hpp).
Datum backfill_key_text_impl(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    Oid type = InvalidOid;
    pg::guarded([&type, fcinfo] { type = get_fn_expr_argtype(fcinfo->flinfo, 0); });
    if (!OidIsValid(type)) throw pg::UserError("42804", "backfill_key_text: unknown argument type");
    return pg::text_datum(pg::canonical_output(type, PG_GETARG_DATUM(0)));
}

// The value of such text, typed like the second argument (a NULL of the key's type).
Datum backfill_key_value_impl(FunctionCallInfo fcinfo) {
    const auto text = pg::text_arg(fcinfo, 0);
    if (!text) PG_RETURN_NULL();
    Oid type = InvalidOid;
    pg::guarded([&type, fcinfo] { type = get_fn_expr_argtype(fcinfo->flinfo, 1); });
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
