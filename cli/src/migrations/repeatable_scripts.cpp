#include "migrations/repeatable_scripts.hpp"

#include "checksum.hpp"
#include "migrations/transaction_control.hpp"
#include "ui/output.hpp"

#include <chrono>
#include <stdexcept>

namespace pgmig::migrations {

std::vector<RepeatableResult> apply_repeatables(db::Connection &conn,
                                                const std::vector<RepeatableScript> &scripts,
                                                bool dry_run) {
    std::vector<RepeatableResult> out;
    for (const auto &script : scripts) {
        const std::string file = script.path.filename().string();
        const std::string key = "repeatable/" + file;
        const std::string checksum = pgm::script_checksum(script.sql);
        auto known = conn.query("SELECT checksum FROM pg_migrate.seed WHERE file = $1", {key});
        const bool changed = known.rows.empty() || known.rows[0][0].value_or("") != checksum;
        if (!changed) {
            out.push_back({file, "unchanged", "", "ran before with this text"});
            continue;
        }
        if (auto statement =
                first_transaction_control(script.sql, script_statements(conn, script.sql)))
            throw std::runtime_error("repeatable migration " + file +
                                     " contains transaction control: " + *statement +
                                     "; pgmig runs it in a transaction of its own");
        if (dry_run) {
            out.push_back({file, "would_apply", "", known.rows.empty() ? "new" : "changed"});
            continue;
        }
        const auto t0 = std::chrono::steady_clock::now();
        try {
            db::Transaction tx(conn);
            conn.with_user_search_path([&] { conn.exec(script.sql); });
            const std::string ms = ui::elapsed_ms(t0);
            conn.query(
                "INSERT INTO pg_migrate.seed (file, checksum, duration_ms) VALUES ($1, $2, "
                "$3::numeric) ON CONFLICT (file) DO UPDATE SET checksum = EXCLUDED.checksum, "
                "applied_at = now(), applied_by = session_user, duration_ms = "
                "EXCLUDED.duration_ms, runs = pg_migrate.seed.runs + 1",
                {key, checksum, ms});
            tx.commit();
            out.push_back({file, "applied", ms, known.rows.empty() ? "new" : "changed"});
        } catch (const db::DbError &e) {
            out.push_back({file, "failed", "", e.sqlstate() + ": " + e.what() + " (rolled back)"});
            break;
        }
    }
    return out;
}

}  // namespace pgmig::migrations
