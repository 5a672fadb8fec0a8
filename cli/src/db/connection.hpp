// The CLI's only door to PostgreSQL (libpq). Values always travel as parameters.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;

namespace pgmig::db {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

struct Result {
    std::vector<std::string> columns;
    std::vector<Row> rows;
    int64_t affected = 0;  // rows an INSERT/UPDATE/DELETE changed (PQcmdTuples)
};

// A statement that failed on the server, with the parts PostgreSQL reported.
class DbError : public std::runtime_error {
  public:
    DbError(std::string sqlstate, const std::string &message, std::string detail, std::string hint)
        : std::runtime_error(message),
          sqlstate_(std::move(sqlstate)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}
    const std::string &sqlstate() const { return sqlstate_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }
    // message, then DETAIL and HINT lines when present
    std::string describe() const;

  private:
    std::string sqlstate_, detail_, hint_;
};

// What is wrong with `conninfo` (a conninfo string or URL; anything else is a database name)
// as a noun phrase in general terms ("invalid percent-encoding (...)") that never quotes it,
// since it may hold a password; nullopt when it is usable. Besides libpq's own parse errors, a URL
// whose host, port or database name holds an "@" (or a port that is not a number) is refused: that
// is what an unencoded "@" or "/" in a password turns into, and libpq would quote the pieces. Opens
// no connection.
std::optional<std::string> conninfo_problem(const std::string &conninfo);

// libpq's message about a failed connection with each of `passwords` (non-empty ones) hidden
// and control characters escaped, ready to print.
std::string printable_connection_error(std::string message,
                                       const std::vector<std::string> &passwords);

class Connection {
  public:
    // `conninfo` is a libpq conninfo string or URL; empty uses the PG* environment.
    // `source` names where it came from in error messages ("--target-db"); by default
    // DATABASE_URL when it equals that variable, else --db. A conninfo libpq refuses is never
    // printed, nor is any password.
    explicit Connection(const std::string &conninfo, std::string_view source = {});
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    Result query(const std::string &sql, const std::vector<Value> &params = {});
    void exec(const std::string &sql);  // one or more statements, no parameters
    int backend_pid();

    // COPY ... TO STDOUT: every piece of data goes to `sink` as the server sends it (nothing
    // is held back), and the row count the server reports is returned.
    uint64_t copy_out(const std::string &sql,
                      const std::function<void(const char *data, size_t size)> &sink);

    // COPY ... FROM STDIN: start it, feed data with copy_in_write, then copy_in_finish returns
    // the row count; copy_in_abort cancels (the server rolls the COPY back).
    void copy_in_start(const std::string &sql);
    void copy_in_write(const char *data, size_t size);
    uint64_t copy_in_finish();
    void copy_in_abort(const std::string &why);

  private:
    pg_conn *conn_;
};

// BEGIN on construction; commit() ends it, and a transaction that is destroyed without
// commit() (an exception left the scope) is rolled back, so no caller hand-writes the
// ROLLBACK path.
class Transaction {
  public:
    explicit Transaction(Connection &conn);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;
    void commit();
    void rollback();

  private:
    Connection &conn_;
    bool open_ = true;
};

}  // namespace pgmig::db
