#include "pg/spi.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

void spi_connect() {
    guarded([] {
        if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "pg_migrate: SPI_connect failed");
    });
}

void spi_finish() {
    guarded([] { SPI_finish(); });
}

namespace {

// pg_migrate's own queries are parsed, planned, run and turned into text with this
// search_path, whatever the caller's is: an overload planted in a schema on the caller's path
// can never be picked for one of our function or operator calls (docs/security.md).
constexpr const char *kPinnedSearchPath = "pg_catalog, pg_temp";

// Pushes a GUC nest level with the pinned search_path; pop_search_path() restores the
// caller's. Both are C only: they run inside guarded() sections.
int push_pinned_search_path() {
    int level = NewGUCNestLevel();
    (void)set_config_option("search_path", kPinnedSearchPath, PGC_USERSET, PGC_S_SESSION,
                            GUC_ACTION_SAVE, true, 0, false);
    return level;
}

struct CArgs {
    Oid *types;
    Datum *values;
    char *nulls;
};

// Builds the parameter arrays in the current (SPI) memory context.
CArgs make_args(const std::vector<Value> &args) {
    CArgs c{nullptr, nullptr, nullptr};
    const int n = static_cast<int>(args.size());
    if (n == 0) return c;
    const std::vector<Value> *src = &args;
    guarded([&c, n, src] {
        c.types = static_cast<Oid *>(palloc(sizeof(Oid) * n));
        c.values = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        c.nulls = static_cast<char *>(palloc(n));
        for (int i = 0; i < n; ++i) {
            const Value &v = (*src)[i];
            c.types[i] = TEXTOID;
            c.nulls[i] = v.has_value() ? ' ' : 'n';
            c.values[i] = v.has_value() ? PointerGetDatum(cstring_to_text_with_len(
                                              v->data(), static_cast<int>(v->size())))
                                        : (Datum)0;
        }
    });
    return c;
}

// Copies SPI_tuptable out as text. The PostgreSQL part collects C strings first.
QueryResult collect(int rc, const char *sql, bool pinned) {
    if (rc < 0)
        throw UserError("XX000", std::string("pg_migrate internal query failed (") +
                                     SPI_result_code_string(rc) + "): " + sql);
    QueryResult result;
    result.processed = SPI_processed;
    SPITupleTable *table = SPI_tuptable;
    if (table == nullptr || SPI_processed == 0) return result;
    const int natts = table->tupdesc->natts;
    const uint64 nrows = SPI_processed;
    char **cells = nullptr;
    guarded([&cells, table, natts, nrows, pinned] {
        // Output functions (regclass, regproc) depend on the search_path too.
        int level = pinned ? push_pinned_search_path() : -1;
        cells = static_cast<char **>(palloc(sizeof(char *) * natts * nrows));
        for (uint64 r = 0; r < nrows; ++r)
            for (int c = 0; c < natts; ++c)
                cells[r * natts + c] = SPI_getvalue(table->vals[r], table->tupdesc, c + 1);
        if (level >= 0) AtEOXact_GUC(true, level);
    });
    result.rows.reserve(nrows);
    for (uint64 r = 0; r < nrows; ++r) {
        Row row;
        row.reserve(natts);
        for (int c = 0; c < natts; ++c) {
            const char *cell = cells[r * natts + c];
            row.push_back(cell ? Value(cell) : std::nullopt);
        }
        result.rows.push_back(std::move(row));
    }
    guarded([cells, table] {
        pfree(cells);
        SPI_freetuptable(table);
    });
    return result;
}

}  // namespace

namespace {

QueryResult run_query(const char *sql, const std::vector<Value> &args, bool pinned) {
    CArgs c = make_args(args);
    const int n = static_cast<int>(args.size());
    int rc = 0;
    guarded([&rc, &c, sql, n, pinned] {
        int level = pinned ? push_pinned_search_path() : -1;
        PG_TRY();
        {
            rc = n == 0 ? SPI_execute(sql, false, 0)
                        : SPI_execute_with_args(sql, n, c.types, c.values, c.nulls, false, 0);
        }
        PG_CATCH();
        {
            if (level >= 0) AtEOXact_GUC(false, level);
            PG_RE_THROW();
        }
        PG_END_TRY();
        if (level >= 0) AtEOXact_GUC(true, level);
    });
    return collect(rc, sql, pinned);
}

}  // namespace

QueryResult query(const char *sql, const std::vector<Value> &args) {
    return run_query(sql, args, true);
}

QueryResult query_in_caller_path(const char *sql, const std::vector<Value> &args) {
    return run_query(sql, args, false);
}

std::string caller_search_path() {
    const char *path = nullptr;
    guarded([&path] { path = pstrdup(GetConfigOption("search_path", false, false)); });
    return path ? path : "";
}

PreparedQuery::PreparedQuery(const char *sql, int nargs) : nargs_(nargs) {
    SPIPlanPtr plan = nullptr;
    guarded([&plan, sql, nargs] {
        Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * (nargs > 0 ? nargs : 1)));
        for (int i = 0; i < nargs; ++i) types[i] = TEXTOID;
        int level = push_pinned_search_path();
        plan = SPI_prepare(sql, nargs, types);
        if (plan == nullptr)
            elog(ERROR, "pg_migrate: could not prepare internal query: %s",
                 SPI_result_code_string(SPI_result));
        AtEOXact_GUC(true, level);
    });
    plan_ = plan;
}

QueryResult PreparedQuery::run(const std::vector<Value> &args) const {
    if (static_cast<int>(args.size()) != nargs_)
        throw UserError("XX000", "pg_migrate: wrong number of internal query parameters");
    CArgs c = make_args(args);
    int rc = 0;
    SPIPlanPtr plan = plan_;
    guarded([&rc, &c, plan] {
        // A cached plan is re-planned under the current search_path when it differs.
        int level = push_pinned_search_path();
        PG_TRY();
        { rc = SPI_execute_plan(plan, c.values, c.nulls, false, 0); }
        PG_CATCH();
        {
            AtEOXact_GUC(false, level);
            PG_RE_THROW();
        }
        PG_END_TRY();
        AtEOXact_GUC(true, level);
    });
    return collect(rc, "prepared internal query", true);
}

StatementOutcome run_user_statement(const std::string &sql) {
    StatementOutcome out;
    const char *text = sql.c_str();
    int rc = 0;
    uint64 processed = 0;
    bool returned_false = false;
    guarded([&rc, &processed, &returned_false, text] {
        rc = SPI_execute(text, false, 0);
        processed = SPI_processed;
        SPITupleTable *table = SPI_tuptable;
        if (rc >= 0 && table != nullptr && table->tupdesc->natts >= 1 &&
            TupleDescAttr(table->tupdesc, 0)->atttypid == BOOLOID) {
            for (uint64 r = 0; r < SPI_processed; ++r) {
                bool isnull = false;
                Datum d = SPI_getbinval(table->vals[r], table->tupdesc, 1, &isnull);
                if (isnull || !DatumGetBool(d)) returned_false = true;
            }
        }
        if (table != nullptr) SPI_freetuptable(table);
        if (rc == SPI_ERROR_TRANSACTION)
            ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
                            errmsg("transaction control statements cannot run inside a migration"),
                            errhint("pg_migrate runs each migration in its own subtransaction; "
                                    "remove BEGIN/COMMIT/ROLLBACK from the script.")));
        if (rc < 0)
            ereport(ERROR,
                    (errcode(ERRCODE_INTERNAL_ERROR),
                     errmsg("statement could not be executed: %s", SPI_result_code_string(rc))));
    });
    out.processed = processed;
    out.returned_false = returned_false;
    return out;
}

}  // namespace pgm::pg
