#include "migrations/outside_transaction.hpp"

#include "retry_policy.hpp"

#include <chrono>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

namespace pgmig::migrations {

std::vector<Statement> registered_statements(db::Connection &conn, const std::string &version,
                                             bool down) {
    auto r = conn.query(std::string("SELECT s.statement_number, s.statement FROM "
                                    "pg_migrate.migration g, @extschema@.migrate_statements(g.") +
                            (down ? "down_sql" : "up_sql") +
                            ") s WHERE g.version = $1 ORDER BY s.statement_number",
                        {version});
    std::vector<Statement> out;
    for (const auto &row : r.rows) out.push_back({std::stoi(row[0].value()), row[1].value_or("")});
    return out;
}

ConcurrentIndex concurrent_index(const std::string &statement) {
    static const std::regex re(
        R"(^\s*create\s+(unique\s+)?index\s+concurrently\s+(if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\s+on\s+(only\s+)?((?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?:\.(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*))?))",
        std::regex::icase);
    std::smatch m;
    if (!std::regex_search(statement, m, re)) return {};
    return {concurrent_index_name(statement), m[5].str()};
}

std::string concurrent_index_name(const std::string &statement) {
    static const std::regex re(
        R"(^\s*create\s+(unique\s+)?index\s+concurrently\s+(if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\s+on\s)",
        std::regex::icase);
    std::smatch m;
    if (!std::regex_search(statement, m, re)) return "";
    std::string name = m[3].str();
    if (name.front() == '"') {
        std::string out;
        for (size_t i = 1; i + 1 < name.size(); ++i) {
            out += name[i];
            if (name[i] == '"') ++i;
        }
        return out;
    }
    for (char &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

std::optional<StatementFailure> run_outside_transaction(db::Connection &conn,
                                                        const std::string &label,
                                                        const std::vector<Statement> &statements,
                                                        int resume_from,
                                                        const std::function<void(int)> &done) {
    auto settings = conn.query(
        // Schema-qualified, though the session's search_path is pgmig's pinned one here.
        "SELECT pg_catalog.current_setting('pg_migrate.lock_timeout'), "
        "pg_catalog.current_setting('pg_migrate.statement_timeout'), "
        "pg_catalog.current_setting('pg_migrate.lock_retries')::pg_catalog.int4, "
        "(extract(epoch FROM "
        "pg_catalog.current_setting('pg_migrate.retry_delay')::pg_catalog.interval) "
        "OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4, "
        "(extract(epoch FROM "
        "pg_catalog.current_setting('pg_migrate.retry_max_delay')::pg_catalog.interval) "
        "OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4");
    const auto &s = settings.rows.at(0);
    const pgm::RetryPolicy policy{std::stoi(s[2].value()), std::stoi(s[3].value()),
                                  std::stoi(s[4].value())};
    conn.query(
        "SELECT pg_catalog.set_config('lock_timeout', $1, false), "
        "pg_catalog.set_config('statement_timeout', $2, false)",
        {s[0], s[1]});
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::optional<StatementFailure> failure;
    // The user's search_path, carried from statement to statement (a SET search_path in the
    // script holds for the statements after it); pgmig's own queries between them use its own.
    std::string path = conn.user_search_path();
    // Who runs the statements: a statement that changes it (SET ROLE, SET SESSION
    // AUTHORIZATION, RESET ALL, set_config('role')) fails the migration, as in
    // migrate_execute(), before pgmig records anything as the other role.
    const auto who_query =
        "SELECT current_user::pg_catalog.text, session_user::pg_catalog.text, "
        "pg_catalog.current_setting('role')";
    const auto who = conn.query(who_query).rows.at(0);
    for (const auto &st : statements) {
        if (st.number < resume_from) continue;
        const ConcurrentIndex index = concurrent_index(st.sql);
        for (int attempt = 1;; ++attempt) {
            // A CONCURRENTLY build that failed, timed out or was interrupted leaves an invalid
            // index with its name behind (in its table's schema), which would make the next
            // attempt fail, or with IF NOT EXISTS succeed without building anything.
            // The table is named as in the script, so it resolves with the user's search_path;
            // the rest runs with pgmig's pinned one.
            const auto table =
                index.name.empty() ? std::nullopt : conn.resolve_relation(index.table);
            if (table) {
                auto invalid = conn.query(
                    "SELECT format('DROP INDEX CONCURRENTLY %s', c.oid::regclass) FROM "
                    "pg_catalog.pg_class c "
                    "JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid "
                    "WHERE c.relname = $1 AND NOT i.indisvalid AND i.indrelid = $2::oid "
                    "  AND c.relnamespace = (SELECT t.relnamespace FROM pg_catalog.pg_class t "
                    "                         WHERE t.oid = $2::oid) "
                    // Not an index another session is building right now (it is invalid
                    // until its build ends).
                    "  AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_progress_create_index p "
                    "                   WHERE p.index_relid = c.oid OR (p.relid = $2::oid AND "
                    "                         p.index_relid = 0))",
                    {index.name, *table});
                for (const auto &drop : invalid.rows) {
                    std::cerr << label << ": dropping invalid index " << index.name
                              << " left by an earlier attempt\n";
                    conn.exec(drop[0].value());
                }
            }
            bool ran = false;
            try {
                conn.exec_in_path(&path, st.sql);
                ran = true;
            } catch (const db::DbError &e) {
                if (pgm::may_retry(policy, attempt, e.sqlstate())) {
                    const int delay = pgm::backoff_delay_ms(policy, attempt, unit(rng));
                    std::cerr << label << " statement " << st.number << ": " << e.what()
                              << "; retrying in " << delay << " ms\n";
                    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
                    continue;
                }
                failure = StatementFailure{st.number, st.sql, e.sqlstate(), e.what()};
                break;
            }
            if (ran) {
                const auto now = conn.query(who_query).rows.at(0);
                if (now != who) {
                    // Back to the deploying role (a superuser session can; SET SESSION
                    // AUTHORIZATION to another role cannot be undone, and then the
                    // connection ends with the failure), then fail as migrate_execute does.
                    try {
                        conn.exec("RESET SESSION AUTHORIZATION; RESET ROLE");
                    } catch (const db::DbError &) {
                    }
                    failure = StatementFailure{
                        st.number, st.sql, "42501",
                        "a migration statement may not change the role it runs as: it changed "
                        "the current user from \"" +
                            who[0].value_or("?") + "\" to \"" + now[0].value_or("?") +
                            "\" (SET ROLE, SET SESSION AUTHORIZATION, RESET ALL or set_config)"};
                    break;
                }
                done(st.number);  // outside the try: a recording error is not a statement error
                break;
            }
        }
        if (failure) break;
    }
    conn.exec("RESET lock_timeout; RESET statement_timeout");
    return failure;
}

}  // namespace pgmig::migrations
