#include "db/connection.hpp"

#include "interrupt.hpp"
#include "migrations/terminal_text.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
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
    // An empty query string (an empty seed file, or only comments) did nothing, successfully.
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
        return;
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

namespace {

bool is_url(const std::string &conninfo) {
    return conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
}

// libpq expands a `dbname` that looks like a conninfo string or URL; anything else is a name.
bool is_connection_string(const std::string &conninfo) {
    return is_url(conninfo) || conninfo.find('=') != std::string::npos;
}

// libpq's parse error in general terms. libpq quotes the offending token, which may be (part
// of) a password, so only the kind of mistake is kept.
std::string parse_problem(const std::string &libpq_message) {
    const auto has = [&libpq_message](const char *s) {
        return libpq_message.find(s) != std::string::npos;
    };
    if (has("percent-encod"))
        return "invalid percent-encoding (a \"%\" must start a %XX escape "
               "of two hexadecimal digits, and %00 is not allowed)";
    if (has("URI query parameter") || has("key/value separator"))
        return "a malformed query parameter (after \"?\", each is "
               "keyword=value, joined by \"&\", with a libpq connection keyword)";
    if (has("IPv6")) return "a malformed IPv6 host address (in [brackets])";
    if (has("unexpected character"))
        return "an unexpected character after the host (expected "
               "\":port\" or \"/database\")";
    if (has("missing \"=\""))
        return "a word without \"=\" (write keyword=value pairs, and "
               "quote a value with spaces: password='a b')";
    if (has("unterminated quoted string")) return "an unterminated quoted value";
    if (has("invalid connection option")) return "an unknown keyword";
    return "a syntax error";
}

// An unencoded "@" or "/" in a URL's password moves the rest of the password into the host,
// port or database name, which libpq then quotes in its errors.
std::optional<std::string> misplaced_url_credentials(const std::string &url,
                                                     const PQconninfoOption *options) {
    // libpq's own split: the user info ends at the first "@", unless a "/" comes first; the
    // host, port and database that follow, up to the query, hold no "@".
    const size_t start = url.find("://") + 3;
    const size_t userinfo_end = url.find_first_of("@/", start);
    const size_t rest =
        userinfo_end != std::string::npos && url[userinfo_end] == '@' ? userinfo_end + 1 : start;
    const size_t query = std::min(url.find('?', rest), url.size());
    const bool stray_at = url.substr(rest, query - rest).find('@') != std::string::npos;
    bool bad_port = false;
    for (const PQconninfoOption *o = options; o->keyword; ++o)
        if (std::string(o->keyword) == "port" && o->val)
            for (const char *c = o->val; *c; ++c)
                bad_port = bad_port || !(std::isdigit(static_cast<unsigned char>(*c)) || *c == ',');
    if (!stray_at && !bad_port) return std::nullopt;
    return std::string(
        "an \"@\" or \"/\" outside the URL syntax, or a port that is not a number: libpq "
        "would read part of the user name or password as the host, port or database");
}

std::string source_label(std::string_view source, const std::string &conninfo) {
    if (!source.empty()) return std::string(source);
    const char *env = std::getenv("DATABASE_URL");
    return env && conninfo == env ? "DATABASE_URL" : "--db";
}

constexpr const char *kConnectHint =
    "Pass --db (conninfo or postgresql:// URL), or set DATABASE_URL or the PG* environment "
    "variables.";

}  // namespace

std::optional<std::string> conninfo_problem(const std::string &conninfo) {
    if (!is_connection_string(conninfo)) return std::nullopt;
    char *error = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
        const std::string message = error ? error : "";
        PQfreemem(error);
        return parse_problem(message);
    }
    std::optional<std::string> problem;
    if (is_url(conninfo)) problem = misplaced_url_credentials(conninfo, options);
    PQconninfoFree(options);
    return problem;
}

std::string printable_connection_error(std::string message,
                                       const std::vector<std::string> &passwords) {
    for (const auto &password : passwords) {
        if (password.empty()) continue;
        static const std::string kHidden = "********";
        for (size_t at = message.find(password); at != std::string::npos;
             at = message.find(password, at + kHidden.size()))
            message.replace(at, password.size(), kHidden);
    }
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return migrations::escape_for_terminal(message, true);
}

Connection::Connection(const std::string &conninfo, std::string_view source) {
    if (auto problem = conninfo_problem(conninfo)) {
        const std::string what = is_url(conninfo) ? "connection URL" : "connection string";
        throw DbError("08001",
                      "cannot connect to PostgreSQL: the " + what + " in " +
                          source_label(source, conninfo) + " has " + *problem + "; the " + what +
                          " is not shown, since it may contain a password",
                      "",
                      std::string(is_url(conninfo)
                                      ? "In a postgresql:// URL, percent-encode these characters "
                                        "of a user name or password: \"%\" as %25, \"@\" as "
                                        "%40, \"/\" as %2F, \":\" as %3A"
                                      : "Write keyword=value pairs; quote a value holding spaces "
                                        "or quotes with '...' (\\' and \\\\ inside)") +
                          "; or leave the password out and use PGPASSWORD or ~/.pgpass.");
    }
    // With expand_dbname, a URL or a conninfo string in `dbname` is parsed like PQconnectdb.
    // pgmig is only the fallback: an application_name in --db, DATABASE_URL or PGAPPNAME wins.
    const char *keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char *values[] = {conninfo.empty() ? nullptr : conninfo.c_str(), "pgmig", nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message names host, port, user and database; a password shows up only when
        // it was written where one of those belongs, and it is hidden anyway.
        std::vector<std::string> passwords;
        if (const char *env = std::getenv("PGPASSWORD")) passwords.emplace_back(env);
        if (const char *pass = conn_ ? PQpass(conn_) : nullptr) passwords.emplace_back(pass);
        if (PQconninfoOption *used = conn_ ? PQconninfo(conn_) : nullptr) {
            for (const PQconninfoOption *o = used; o->keyword; ++o)
                if (std::string(o->keyword) == "password" && o->val) passwords.emplace_back(o->val);
            PQconninfoFree(used);
        }
        const std::string message =
            printable_connection_error(conn_ ? PQerrorMessage(conn_) : "out of memory", passwords);
        PQfinish(conn_);
        conn_ = nullptr;
        throw DbError("08001", "cannot connect to PostgreSQL: " + message, "", kConnectHint);
    }
    PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
    cancel_ = PQgetCancel(conn_);
    try {
        // Only pg_catalog-qualified names and OPERATOR(pg_catalog.=): nothing here can be
        // shadowed by the path it reads.
        user_search_path_ =
            query("SELECT pg_catalog.current_setting('search_path')").rows.at(0).at(0).value_or("");
        pin_search_path();
    } catch (...) {
        PQfinish(conn_);
        conn_ = nullptr;
        throw;
    }
}

void Connection::pin_search_path() {
    auto r = query(
        "SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e "
        "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
        "WHERE e.extname OPERATOR(pg_catalog.=) 'pg_migrate'");
    extension_schema_ = r.rows.empty() ? "" : r.rows[0][0].value_or("");
    // Not even the extension's schema: others may be able to create functions there (public,
    // when the database's owner is not trusted), which would outmatch pg_catalog's.
    pinned_search_path_ = "pg_catalog, pg_temp";
    set_search_path(pinned_search_path_);
}

void Connection::set_search_path(const std::string &path) {
    query("SELECT pg_catalog.set_config('search_path', $1, false)", {path});
}

void Connection::repin_after_user_path() noexcept {
    // In a failed transaction nothing runs; its ROLLBACK restores the path it began with.
    if (!conn_ || PQtransactionStatus(conn_) == PQTRANS_INERROR) return;
    try {
        set_search_path(pinned_search_path_);
    } catch (...) {  // the connection is gone
    }
}

void Connection::exec_in_path(std::string *path, const std::string &sql) {
    set_search_path(*path);
    struct Repin {
        Connection &c;
        ~Repin() { c.repin_after_user_path(); }
    } repin{*this};
    exec(sql);
    *path = query("SELECT pg_catalog.current_setting('search_path')").rows.at(0).at(0).value_or("");
}

std::string Connection::extension_function(const std::string &name) const {
    return extension_schema_.empty() ? name : extension_schema_ + "." + name;
}

std::optional<std::string> Connection::resolve_relation(const std::string &name) {
    // Every name here but the user's relation is qualified (casts are found by type, not by
    // name), so the user's search_path, which the lookup must use, reaches nothing else.
    auto r = with_user_search_path([&] {
        return query(
            "SELECT pg_catalog.to_regclass($1::pg_catalog.text)::pg_catalog.oid::pg_catalog.text",
            {name});
    });
    return r.rows.at(0).at(0);
}

Connection::~Connection() {
    if (cancel_) {
        interrupt::set_running(nullptr, 0);
        PQfreeCancel(cancel_);
    }
    if (conn_) PQfinish(conn_);
}

namespace {

// While the server runs a statement, a Ctrl-C cancels it.
struct Running {
    Running(PGcancel *cancel, int pid) { interrupt::set_running(cancel, pid); }
    ~Running() { interrupt::set_running(nullptr, 0); }
};

}  // namespace

void Connection::before_statement() const {
    if (interrupt::requested() && !interrupt::report_allowed())
        throw interrupt::Interrupted("interrupted: nothing more was started");
}

std::string Connection::bind_extension_schema(const std::string &sql) const {
    static const std::string kMark = "@extschema@.";
    std::string out = sql;
    const std::string schema = extension_schema_.empty() ? "" : extension_schema_ + ".";
    for (size_t at = out.find(kMark); at != std::string::npos;
         at = out.find(kMark, at + schema.size()))
        out.replace(at, kMark.size(), schema);
    return out;
}

Result Connection::query(const std::string &given, const std::vector<Value> &params) {
    const std::string sql = bind_extension_schema(given);
    before_statement();
    Running running(cancel_, PQbackendPID(conn_));
    std::vector<const char *> values;
    values.reserve(params.size());
    for (const auto &p : params) values.push_back(p ? p->c_str() : nullptr);
    ResultPtr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), nullptr, nullptr, 0));
    check(conn_, r);
    Result out;
    const int ncols = PQnfields(r.get());
    const int nrows = PQntuples(r.get());
    for (int c = 0; c < ncols; ++c) {
        out.columns.emplace_back(PQfname(r.get(), c));
        out.column_types.push_back(static_cast<unsigned>(PQftype(r.get(), c)));
    }
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
    // Never bound: user scripts go through here, and their text is theirs.
    if (sql != "ROLLBACK") before_statement();  // a rollback always goes
    Running running(cancel_, PQbackendPID(conn_));
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
    before_statement();
    Running running(cancel_, PQbackendPID(conn_));
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
    before_statement();
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
    Running running(cancel_, PQbackendPID(conn_));
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
