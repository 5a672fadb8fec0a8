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
                                    "pg_migrate.migration g, migrate_statements(g.") +
                            (down ? "down_sql" : "up_sql") +
                            ") s WHERE g.version = $1 ORDER BY s.statement_number",
                        {version});
    std::vector<Statement> out;
    for (const auto &row : r.rows) out.push_back({std::stoi(row[0].value()), row[1].value_or("")});
    return out;
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
        "SELECT current_setting('pg_migrate.lock_timeout'), "
        "current_setting('pg_migrate.statement_timeout'), "
        "current_setting('pg_migrate.lock_retries')::int, "
        "(extract(epoch FROM current_setting('pg_migrate.retry_delay')::interval) * 1000)::int, "
        "(extract(epoch FROM current_setting('pg_migrate.retry_max_delay')::interval) * "
        "1000)::int");
    const auto &s = settings.rows.at(0);
    const pgm::RetryPolicy policy{std::stoi(s[2].value()), std::stoi(s[3].value()),
                                  std::stoi(s[4].value())};
    conn.query(
        "SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)",
        {s[0], s[1]});
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::optional<StatementFailure> failure;
    for (const auto &st : statements) {
        if (st.number < resume_from) continue;
        const std::string index = concurrent_index_name(st.sql);
        if (!index.empty()) {
            auto invalid = conn.query(
                "SELECT format('DROP INDEX CONCURRENTLY %s', c.oid::regclass) FROM "
                "pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid WHERE c.relname = $1 AND NOT "
                "i.indisvalid",
                {index});
            for (const auto &drop : invalid.rows) {
                std::cerr << label << ": dropping invalid index " << index
                          << " left by an earlier attempt\n";
                conn.exec(drop[0].value());
            }
        }
        for (int attempt = 1;; ++attempt) {
            try {
                conn.exec(st.sql);
                done(st.number);
                break;
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
        }
        if (failure) break;
    }
    conn.exec("RESET lock_timeout; RESET statement_timeout");
    return failure;
}

}  // namespace pgmig::migrations
