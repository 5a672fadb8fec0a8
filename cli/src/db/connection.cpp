#include "db/connection.hpp"

#include <libpq-fe.h>

#include <memory>

namespace pgmig::db {

namespace {

struct ResultDeleter {
    void operator()(PGresult *r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string field(const PGresult *r, int code) {
    const char *v = PQresultErrorField(r, code);
    return v ? v : "";
}

void check(PGconn *conn, const ResultPtr &r) {
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return;
    if (!r) throw DbError("08006", PQerrorMessage(conn), "", "");
    std::string message = field(r.get(), PG_DIAG_MESSAGE_PRIMARY);
    if (message.empty()) message = PQresultErrorMessage(r.get());
    throw DbError(field(r.get(), PG_DIAG_SQLSTATE), message, field(r.get(), PG_DIAG_MESSAGE_DETAIL),
                  field(r.get(), PG_DIAG_MESSAGE_HINT));
}

void ignore_notice(void *, const char *) {}

}  // namespace

std::string DbError::describe() const {
    std::string out = what();
    if (!detail_.empty()) out += "\n  DETAIL: " + detail_;
    if (!hint_.empty()) out += "\n  HINT: " + hint_;
    return out;
}

Connection::Connection(const std::string &conninfo) {
    // With expand_dbname, a URL or a conninfo string in `dbname` is parsed like PQconnectdb.
    // pgmig is only the fallback: an application_name in --db, DATABASE_URL or PGAPPNAME wins.
    const char *keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char *values[] = {conninfo.empty() ? nullptr : conninfo.c_str(), "pgmig", nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message names host and database, never the password.
        std::string message = PQerrorMessage(conn_);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        PQfinish(conn_);
        conn_ = nullptr;
        throw DbError("08001", "cannot connect to PostgreSQL: " + message, "",
                      "Pass --db (conninfo or postgresql:// URL), or set DATABASE_URL or the PG* "
                      "environment variables.");
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
}

Connection::~Connection() {
    if (conn_) PQfinish(conn_);
}

Result Connection::query(const std::string &sql, const std::vector<Value> &params) {
    std::vector<const char *> values;
    values.reserve(params.size());
    for (const auto &p : params) values.push_back(p ? p->c_str() : nullptr);
    ResultPtr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
    check(conn_, r);
    Result out;
    const int ncols = PQnfields(r.get());
    const int nrows = PQntuples(r.get());
    for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(r.get(), c));
    const char *affected = PQcmdTuples(r.get());
    if (affected && *affected) out.affected = std::stoll(affected);
    out.rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
        Row row;
        row.reserve(ncols);
        for (int c = 0; c < ncols; ++c)
            row.push_back(PQgetisnull(r.get(), i, c) ? Value() : Value(PQgetvalue(r.get(), i, c)));
        out.rows.push_back(std::move(row));
    }
    return out;
}

void Connection::exec(const std::string &sql) {
    ResultPtr r(PQexec(conn_, sql.c_str()));
    check(conn_, r);
}

int Connection::backend_pid() {
    return PQbackendPID(conn_);
}

namespace {

uint64_t copy_rows(const PGresult *r) {
    const char *n = PQcmdTuples(const_cast<PGresult *>(r));
    return n && *n ? std::stoull(n) : 0;
}

// The result that ends a COPY: an error is thrown as a DbError.
uint64_t finish_copy(PGconn *conn) {
    uint64_t rows = 0;
    while (PGresult *raw = PQgetResult(conn)) {
        ResultPtr r(raw);
        check(conn, r);
        rows = copy_rows(r.get());
    }
    return rows;
}

}  // namespace

uint64_t Connection::copy_out(const std::string &sql,
                              const std::function<void(const char *, size_t)> &sink) {
    ResultPtr start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT) {
        check(conn_, start);
        throw DbError("XX000", "expected a COPY TO STDOUT statement", "", "");
    }
    for (;;) {
        char *buffer = nullptr;
        const int n = PQgetCopyData(conn_, &buffer, 0);
        if (n > 0) {
            std::unique_ptr<char, void (*)(void *)> owned(buffer, PQfreemem);
            sink(buffer, static_cast<size_t>(n));  // if this throws, the connection is dropped
            continue;
        }
        if (n == -1) break;
        throw DbError("08006", "COPY TO STDOUT failed: " + std::string(PQerrorMessage(conn_)), "",
                      "");
    }
    return finish_copy(conn_);
}

void Connection::copy_in_start(const std::string &sql) {
    ResultPtr start(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(start.get()) != PGRES_COPY_IN) {
        check(conn_, start);
        throw DbError("XX000", "expected a COPY FROM STDIN statement", "", "");
    }
}

void Connection::copy_in_write(const char *data, size_t size) {
    while (size > 0) {
        const int piece = static_cast<int>(std::min<size_t>(size, 1 << 20));
        if (PQputCopyData(conn_, data, piece) != 1)
            throw DbError("08006", "COPY FROM STDIN failed: " + std::string(PQerrorMessage(conn_)),
                          "", "");
        data += piece;
        size -= static_cast<size_t>(piece);
    }
}

uint64_t Connection::copy_in_finish() {
    if (PQputCopyEnd(conn_, nullptr) != 1)
        throw DbError("08006", "COPY FROM STDIN failed: " + std::string(PQerrorMessage(conn_)), "",
                      "");
    return finish_copy(conn_);
}

void Connection::copy_in_abort(const std::string &why) {
    if (PQputCopyEnd(conn_, why.c_str()) == 1) {
        while (PGresult *raw = PQgetResult(conn_)) PQclear(raw);
    }
}

Transaction::Transaction(Connection &conn) : conn_(conn) {
    conn_.exec("BEGIN");
}

Transaction::~Transaction() {
    if (!open_) return;
    try {
        conn_.exec("ROLLBACK");
    } catch (...) {  // the connection is gone: the server rolled back already
    }
}

void Transaction::commit() {
    open_ = false;
    conn_.exec("COMMIT");
}

void Transaction::rollback() {
    open_ = false;
    conn_.exec("ROLLBACK");
}

}  // namespace pgmig::db
