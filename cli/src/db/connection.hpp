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
struct pg_cancel;

namespace pgmig::db {

using Value = std::optional<std::string>;
using Row = std::vector<Value>;

struct Result {
    std::vector<std::string> columns;
    std::vector<unsigned> column_types;  // each column's type OID (PQftype)
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

// The search_path of pgmig's own statements: a session's search_path is the user's (PGOPTIONS,
// ALTER ROLE ... SET), and a schema on it that someone else can write could otherwise put a
// function or operator (a better-matching overload wins even over pg_catalog) or a type in the
// way of pgmig's queries, run then as whoever runs pgmig. So a connection pins its search_path
// to pg_catalog and pg_temp (last, so no temporary table hides a catalog) as soon as it opens:
// not even the extension's schema is on it (public, say, where the database's owner may create
// functions). The text of a query() names the extension's functions as
// "@extschema@.migrate_status()", which query() binds to the extension's schema. The session
// switches to the user's own search_path only around what must see the user's names: migration
// and seed scripts, the extension calls that run them, and the resolution of table names the
// user typed. Text run there names nothing unqualified but the user's own objects.
class Connection {
  public:
    // `conninfo` is a libpq conninfo string or URL; empty uses the PG* environment.
    // `source` names where it came from in error messages ("--target-db"); by default
    // DATABASE_URL when it equals that variable, else --db. A conninfo libpq refuses is never
    // printed, nor is any password. The session's search_path is pinned (see above).
    explicit Connection(const std::string &conninfo, std::string_view source = {});
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // One statement; "@extschema@." in `sql` becomes the extension's schema.
    Result query(const std::string &sql, const std::vector<Value> &params = {});
    void exec(const std::string &sql);  // one or more statements, no parameters, as they are
    int backend_pid();

    // The search_path the session had before pgmig pinned it: the one migrations run with.
    const std::string &user_search_path() const { return user_search_path_; }
    // `name` qualified with the pg_migrate extension's schema ("public.migrate_execute"), for
    // calls made with the user's search_path; `name` alone when the extension is not installed.
    std::string extension_function(const std::string &name) const;
    // Pins the search_path again and re-reads the extension's schema: after CREATE EXTENSION,
    // or after a script that set its own search_path.
    void pin_search_path();
    // Runs `f` with the user's search_path, then pins it again (also when `f` throws; in a
    // failed transaction the ROLLBACK puts back the pinned path the transaction began with).
    template <class F>
    decltype(auto) with_user_search_path(F &&f) {
        set_search_path(user_search_path_);
        struct Repin {
            Connection &c;
            ~Repin() { c.repin_after_user_path(); }
        } repin{*this};
        return f();
    }
    // Runs the user's `sql` with the search_path `*path` (start with user_search_path()), then
    // keeps in `*path` the path it left (a script's SET search_path holds for the statements
    // after it, as in psql), and pins pgmig's again.
    void exec_in_path(std::string *path, const std::string &sql);
    // The relation the user means by `name` (as typed: "accounts", "app.Orders", "\"Odd\""),
    // resolved with the user's search_path, as its OID; nullopt when there is none.
    std::optional<std::string> resolve_relation(const std::string &name);

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
    void set_search_path(const std::string &path);
    std::string bind_extension_schema(const std::string &sql) const;
    void repin_after_user_path() noexcept;
    void before_statement() const;  // throws interrupt::Interrupted after a Ctrl-C
    pg_conn *conn_;
    pg_cancel *cancel_ = nullptr;  // for a Ctrl-C while the server runs a statement
    std::string user_search_path_;
    std::string extension_schema_;  // quoted; empty when the extension is not installed
    std::string pinned_search_path_;
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
