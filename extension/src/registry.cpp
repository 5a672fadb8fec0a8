// migrate_register(), migrate_checksum(), migrate_statements().
#include "registry.hpp"

#include "checksum.hpp"
#include "config.hpp"
#include "migration_lock.hpp"
#include "migration_version.hpp"
#include "pg/arguments.hpp"
#include "pg/error.hpp"
#include "pg/result_rows.hpp"
#include "pg/session_limits.hpp"
#include "pg/spi.hpp"
#include "pg/statement_analysis.hpp"
#include "pg/statement_parser.hpp"
#include "pg/subtransaction.hpp"
#include "script_directives.hpp"

#include <algorithm>
#include <optional>
#include <map>

namespace pgm {

namespace {

// 1-based line of a 1-based character position in a script.
int line_of_char_position(const std::string &script, int char_pos) {
    const size_t end = pg::byte_offset_of_char(script, char_pos);
    return 1 + static_cast<int>(std::count(script.begin(), script.begin() + end, '\n'));
}

bool only_blank(const std::string &s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

std::string json_string(const std::string &text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

struct Options {
    std::optional<bool> no_transaction;
    std::optional<int> lock_timeout_ms;
    std::optional<int> statement_timeout_ms;
    std::optional<int> lock_retries;
    std::vector<std::string> snapshot_tables;  // snapshot before the migration runs

    std::string to_json() const {
        std::string out = "{";
        auto add = [&out](const char *key, const std::string &value) {
            if (out.size() > 1) out += ", ";
            out += "\"" + std::string(key) + "\": " + value;
        };
        if (lock_retries) add("lock_retries", std::to_string(*lock_retries));
        if (lock_timeout_ms) add("lock_timeout", std::to_string(*lock_timeout_ms));
        if (no_transaction) add("no_transaction", *no_transaction ? "true" : "false");
        if (!snapshot_tables.empty()) {
            std::string list = "[";
            for (size_t i = 0; i < snapshot_tables.size(); ++i)
                list += (i ? ", " : "") + json_string(snapshot_tables[i]);
            add("snapshot", list + "]");
        }
        if (statement_timeout_ms) add("statement_timeout", std::to_string(*statement_timeout_ms));
        return out + "}";
    }
};

constexpr const char *kOptionsHint =
    "Accepted options: {\"no_transaction\": true, \"lock_timeout\": \"5s\", "
    "\"statement_timeout\": \"10min\", \"lock_retries\": 10, \"snapshot\": [\"user_profiles\"]}.";

// Validates the options object with PostgreSQL's JSON functions and normalizes durations to
// milliseconds, so that equal options always compare equal.
Options parse_options(const std::optional<std::string> &json) {
    Options o;
    if (!json || *json == "{}") return o;
    auto kind = pg::query("SELECT pg_catalog.jsonb_typeof($1::jsonb)", {*json});
    if (kind.rows.at(0).at(0).value_or("") != "object")
        throw pg::UserError("22023", "options must be a JSON object", "got: " + *json,
                            kOptionsHint);
    auto entries = pg::query(
        "SELECT key, pg_catalog.jsonb_typeof(value), value #>> '{}' "
        "FROM pg_catalog.jsonb_each($1::jsonb) ORDER BY key",
        {*json});
    for (const auto &row : entries.rows) {
        const std::string key = row[0].value_or("");
        const std::string type = row[1].value_or("");
        const std::string value = row[2].value_or("");
        auto bad = [&](const char *expected) {
            return pg::UserError(
                "22023",
                "option \"" + key + "\" must be " + expected + ", got " + type + " " + value, "",
                kOptionsHint);
        };
        if (key == "no_transaction") {
            if (type != "boolean") throw bad("a boolean");
            o.no_transaction = value == "true";
        } else if (key == "lock_timeout" || key == "statement_timeout") {
            if (type != "string" && type != "number") throw bad("a duration such as \"5s\"");
            int ms = pg::parse_duration_ms(value, ("option " + key).c_str());
            (key == "lock_timeout" ? o.lock_timeout_ms : o.statement_timeout_ms) = ms;
        } else if (key == "snapshot") {
            if (type != "array" && type != "string") throw bad("an array of table names");
            if (type == "string") {
                o.snapshot_tables.push_back(value);
                continue;
            }
            auto names = pg::query(
                "SELECT pg_catalog.jsonb_array_elements_text($1::jsonb -> 'snapshot')", {*json});
            for (const auto &n : names.rows) o.snapshot_tables.push_back(n.at(0).value_or(""));
        } else if (key == "lock_retries") {
            if (type != "number" || value.find_first_not_of("0123456789") != std::string::npos ||
                value.size() > 4)
                throw bad("a whole number between 0 and 1000");
            o.lock_retries = std::stoi(value);
            if (*o.lock_retries > 1000) throw bad("a whole number between 0 and 1000");
        } else {
            throw pg::UserError("22023", "unknown option \"" + key + "\"", "", kOptionsHint);
        }
    }
    return o;
}

std::string reason_for(const ScriptAnalysis &up, const std::vector<ScriptDirective> &directives,
                       const Options &options) {
    if (!up.no_transaction_reason.empty()) return up.no_transaction_reason;
    if (has_directive(directives, "no-transaction"))
        return "the up script has the -- pgmig:no-transaction directive";
    if (options.no_transaction.value_or(false)) return "option no_transaction is true";
    return "";
}

bool migration_has_column(const char *column) {
    return pg::query(
               "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = "
               "'pg_migrate.migration'::pg_catalog.regclass AND attname = $1::pg_catalog.name "
               "AND NOT attisdropped)",
               {std::string(column)})
               .rows.at(0)
               .at(0)
               .value_or("f") == "t";
}

Datum migrate_register_impl(FunctionCallInfo fcinfo) {
    auto version = pg::text_arg(fcinfo, 0);
    auto name = pg::text_arg(fcinfo, 1);
    auto up_sql = pg::text_arg(fcinfo, 2);
    auto down_sql = pg::text_arg(fcinfo, 3);
    auto verify_sql = pg::text_arg(fcinfo, 4);
    auto options_json = pg::jsonb_arg_as_text(fcinfo, 5);
    // A UTF-8 byte order mark (editors on Windows write one) is not part of the SQL: the
    // scanner would take it for the start of the first word. Stored, checksummed and run
    // without it, as pgmig reads files.
    for (auto *script : {&up_sql, &down_sql, &verify_sql})
        if (*script && script->value().rfind("\xEF\xBB\xBF", 0) == 0) script->value().erase(0, 3);

    if (!version || !name || !up_sql)
        throw pg::UserError(
            "22004", "version, name and up_sql must not be NULL", "",
            "Call migrate_register('20261122120000', 'add_roles', 'ALTER TABLE ...');");
    if (auto problem = version_problem(*version))
        throw pg::UserError("22023", "invalid migration version: " + *problem, "",
                            "Versions are digits only, usually a UTC timestamp such as "
                            "20261122093000 (pgmig new creates one).");
    if (only_blank(*name) || name->size() > 200)
        throw pg::UserError("22023", "invalid migration name \"" + *name + "\"",
                            "A name is 1 to 200 characters and not only spaces.");

    // An empty or comment-only script is a no-op (real histories have them: a step that does
    // nothing on PostgreSQL, a down with nothing to undo); it is applied and recorded.
    ScriptAnalysis up = analyze_script(*up_sql, "up", *version);
    // Down and verify scripts run later, maybe on another server: one that does not parse
    // here does not stop the registration. The migration is marked as not revertible on this
    // server (down), or fails when its verify script would run (verify).
    ScriptAnalysis down;
    std::optional<std::string> down_problem;
    if (down_sql) {
        if (auto problem = parse_problem(*down_sql, "down", *version))
            down_problem = problem;
        else
            down = analyze_script(*down_sql, "down", *version);
    }
    if (verify_sql && !parse_problem(*verify_sql, "verify", *version)) {
        ScriptAnalysis verify = analyze_script(*verify_sql, "verify", *version);
        if (!verify.no_transaction_reason.empty())
            throw pg::UserError(
                "25001",
                "verify script of migration " + *version + " cannot run inside a transaction",
                verify.no_transaction_reason,
                "A verify script runs in the migration's subtransaction; use "
                "queries that return true when the migration is correct.");
    }
    pg::spi_connect();
    Options options = parse_options(options_json);
    // `-- pgmig:snapshot user_profiles, orders` adds to the "snapshot" option.
    for (const auto &d : parse_directives(*up_sql)) {
        if (d.name != "snapshot") continue;
        std::string name;
        for (char c : d.argument + ",") {
            if (c == ',' || c == ' ' || c == '\t') {
                if (!name.empty()) options.snapshot_tables.push_back(name);
                name.clear();
            } else {
                name += c;
            }
        }
    }
    for (const auto &table : options.snapshot_tables) {
        try {
            pg::query("SELECT pg_catalog.parse_ident($1)", {table});
        } catch (const pg::PgError &e) {
            throw pg::UserError("22023",
                                "invalid table name \"" + table + "\" to snapshot: " + e.what(), "",
                                kOptionsHint);
        }
    }
    std::sort(options.snapshot_tables.begin(), options.snapshot_tables.end());
    options.snapshot_tables.erase(
        std::unique(options.snapshot_tables.begin(), options.snapshot_tables.end()),
        options.snapshot_tables.end());
    pg::spi_finish();
    const std::string options_norm = options.to_json();
    const std::string reason = reason_for(up, parse_directives(*up_sql), options);
    const bool down_no_tx = down_sql && !down_problem &&
                            (!down.no_transaction_reason.empty() ||
                             has_directive(parse_directives(*down_sql), "no-transaction"));
    const std::string checksum = script_checksum(*up_sql);
    const std::string nstatements = std::to_string(up.statements.size());

    pg::spi_connect();
    acquire_migration_lock();
    // A database whose extension is not updated yet (ALTER EXTENSION pg_migrate UPDATE) has
    // no down_problem column; it registers as before.
    const bool with_down_problem = migration_has_column("down_problem");
    const std::string select_existing =
        std::string(
            "SELECT version, name, checksum, state, applied_checksum, up_sql, "
            "       down_sql IS NOT DISTINCT FROM $2 "
            "       AND verify_sql IS NOT DISTINCT FROM $3 AND options = $4::jsonb ") +
        (with_down_problem ? "       AND down_problem IS NOT DISTINCT FROM $5 "
                           : "       AND $5::text IS NOT DISTINCT FROM $5::text ") +
        "  FROM pg_migrate.migration WHERE version_order = $1::numeric";
    auto existing = pg::query(select_existing.c_str(),
                              {*version, down_sql, verify_sql, options_norm, down_problem});

    std::string result;
    if (existing.rows.empty()) {
        pg::query(
            with_down_problem
                ? "INSERT INTO pg_migrate.migration (version, name, up_sql, down_sql, verify_sql, "
                  "  options, checksum, statement_count, requires_no_transaction, "
                  "  no_transaction_reason, down_requires_no_transaction, down_problem) "
                  "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::int, $9::bool, $10, $11::bool, "
                  "$12)"
                : "INSERT INTO pg_migrate.migration (version, name, up_sql, down_sql, verify_sql, "
                  "  options, checksum, statement_count, requires_no_transaction, "
                  "  no_transaction_reason, down_requires_no_transaction) "
                  "SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, $8::int, $9::bool, $10, $11::bool "
                  " WHERE $12::text IS NOT DISTINCT FROM $12::text",
            {*version, *name, *up_sql, down_sql, verify_sql, options_norm, checksum, nstatements,
             std::string(reason.empty() ? "false" : "true"),
             reason.empty() ? pg::Value() : pg::Value(reason),
             std::string(down_no_tx ? "true" : "false"), down_problem});
        result = "registered";
    } else {
        const pg::Row &row = existing.rows[0];
        const std::string old_version = row[0].value_or("");
        const std::string old_name = row[1].value_or("");
        const std::string old_checksum = row[2].value_or("");
        const std::string state = row[3].value_or("");
        const std::string applied_checksum = row[4].value_or("");
        // The stored text is checked too: if someone edited it behind our back (status
        // "modified"), registering the real file again repairs it.
        const bool text_intact = script_checksum(row[5].value_or("")) == old_checksum;
        const bool rest_same = row[6].value_or("f") == "t";
        if (old_version != *version)
            throw pg::UserError("23505",
                                "version " + *version +
                                    " is the same number as registered version " + old_version +
                                    " (\"" + old_name + "\")",
                                "Versions are compared as numbers, so leading zeros do not make "
                                "a new version.",
                                "Give the new migration a higher version (pgmig new uses a UTC "
                                "timestamp).");
        if (old_name != *name)
            throw pg::UserError(
                "23505",
                "version " + *version + " is already registered as migration \"" + old_name + "\"",
                "Each version belongs to exactly one migration; \"" + *name +
                    "\" would be a second one.",
                "Give \"" + *name +
                    "\" its own version, or register it under the "
                    "name \"" +
                    old_name + "\" to update that migration.");
        if (state == "applied" && applied_checksum != checksum)
            throw pg::UserError(
                "55000",
                "migration " + *version + " (" + *name +
                    ") is already applied and its up script has changed",
                "applied checksum: " + applied_checksum + "; new checksum: " + checksum,
                "Applied migrations are immutable: write a new migration for the change, or "
                "revert this one first with migrate_rollback(). If the edit changes nothing "
                "the database needs (a comment), record it with migrate_accept_checksum() "
                "(pgmig repair --accept-checksum).");
        if (old_checksum == checksum && text_intact && rest_same) {
            result = "unchanged";
        } else {
            pg::query(
                with_down_problem
                    ? "UPDATE pg_migrate.migration SET up_sql = $2, down_sql = $3, verify_sql = "
                      "$4, options = $5::jsonb, checksum = $6, statement_count = $7::int, "
                      "  requires_no_transaction = $8::bool, no_transaction_reason = $9, "
                      "  down_requires_no_transaction = $10::bool, down_problem = $11, "
                      "  updated_at = pg_catalog.now() "
                      "WHERE version = $1"
                    : "UPDATE pg_migrate.migration SET up_sql = $2, down_sql = $3, verify_sql = "
                      "$4, options = $5::jsonb, checksum = $6, statement_count = $7::int, "
                      "  requires_no_transaction = $8::bool, no_transaction_reason = $9, "
                      "  down_requires_no_transaction = $10::bool, updated_at = pg_catalog.now() "
                      "WHERE version = $1 AND $11::text IS NOT DISTINCT FROM $11::text",
                {*version, *up_sql, down_sql, verify_sql, options_norm, checksum, nstatements,
                 std::string(reason.empty() ? "false" : "true"),
                 reason.empty() ? pg::Value() : pg::Value(reason),
                 std::string(down_no_tx ? "true" : "false"), down_problem});
            result = "updated";
        }
    }
    pg::spi_finish();
    return pg::text_datum(result);
}

Datum migrate_checksum_impl(FunctionCallInfo fcinfo) {
    // Declared STRICT; a NULL is answered with NULL even if that declaration ever changes.
    const auto script = pg::text_arg(fcinfo, 0);
    if (!script) PG_RETURN_NULL();
    return pg::text_datum(script_checksum(*script));
}

Datum migrate_statements_impl(FunctionCallInfo fcinfo) {
    const auto script_arg = pg::text_arg(fcinfo, 0);
    if (!script_arg) throw pg::UserError("22004", "the script must not be NULL");
    const std::string script = *script_arg;
    auto statements = pg::parse_script(script);
    std::vector<pg::Row> rows;
    int n = 0;
    for (const auto &s : statements) {
        rows.push_back(
            {std::to_string(++n), pg::display_text(s, SIZE_MAX), std::to_string(s.text_position),
             s.command, std::string(s.no_transaction_reason.empty() ? "f" : "t"),
             s.no_transaction_reason.empty() ? pg::Value() : pg::Value(s.no_transaction_reason)});
    }
    pg::return_rows(fcinfo, rows);
    return (Datum)0;
}

}  // namespace

ScriptAnalysis analyze_script(const std::string &script, const char *role,
                              const std::string &version) {
    ScriptAnalysis a;
    try {
        a.statements = pg::parse_script(script);
    } catch (const pg::PgError &e) {
        const int pos = e.edata()->cursorpos;
        std::string where = pos > 0 ? "at character " + std::to_string(pos) + " (line " +
                                          std::to_string(line_of_char_position(script, pos)) + ")"
                                    : "";
        throw pg::UserError(
            e.sqlstate(),
            std::string(role) + " script of migration " + version + " does not parse: " + e.what(),
            where, "Check the script with psql, or with migrate_statements(sql).");
    }
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto &s = a.statements[i];
        if (s.transaction_control)
            throw pg::UserError(
                "0A000",
                std::string(role) + " script of migration " + version +
                    " contains transaction control: statement " + std::to_string(i + 1) + " is " +
                    s.command,
                "",
                "Remove BEGIN, COMMIT, ROLLBACK and SAVEPOINT: pg_migrate runs every migration in "
                "its own subtransaction (and a -- pgmig:no-transaction migration statement by "
                "statement).");
    }
    for (size_t i = 0; i < a.statements.size(); ++i) {
        const auto &s = a.statements[i];
        if (!s.no_transaction_reason.empty()) {
            a.no_transaction_reason = "statement " + std::to_string(i + 1) + " (" + s.command +
                                      "): " + s.no_transaction_reason;
            break;
        }
    }
    return a;
}

std::optional<std::string> parse_problem(const std::string &script, const char *role,
                                         const std::string &version) {
    try {
        pg::parse_script(script);
        return std::nullopt;
    } catch (const pg::PgError &e) {
        const int pos = e.edata()->cursorpos;
        return std::string(role) + " script of migration " + version +
               " does not parse on this server (PostgreSQL " + pg::server_version() +
               "): " + e.what() +
               (pos > 0 ? " at line " + std::to_string(line_of_char_position(script, pos)) : "");
    }
}

MigrationLimits effective_limits(const MigrationOptionLimits &o) {
    return {o.lock_timeout_ms.value_or(config::lock_timeout_ms),
            o.statement_timeout_ms.value_or(config::statement_timeout_ms),
            o.lock_retries.value_or(config::lock_retries), o.statement_timeout_ms.has_value()};
}

// Whether an applied migration's edited up script differs from the recorded one only in
// comments and whitespace (migrate_accept_checksum accepts nothing else).
Datum script_edit_is_cosmetic_impl(FunctionCallInfo fcinfo) {
    const auto before = pg::text_arg(fcinfo, 0);
    const auto after = pg::text_arg(fcinfo, 1);
    if (!before || !after) PG_RETURN_NULL();
    // Comments and whitespace only: the same tokens, and the same directives (which are
    // comments, but change how the script runs).
    const auto same_directives = [](const std::string &a, const std::string &b) {
        const auto da = parse_directives(a), db = parse_directives(b);
        if (da.size() != db.size()) return false;
        for (size_t i = 0; i < da.size(); ++i)
            if (da[i].name != db[i].name || da[i].argument != db[i].argument) return false;
        return true;
    };
    // Under both values of standard_conforming_strings: the session that runs the script
    // again may have either (a database or role default), and 'x\' -- ', 1 is one literal
    // under one and a literal, a comment and more under the other.
    // A text the lexer refuses under a setting (an unterminated literal) has no tokens
    // there: equal only to another it refuses. Lexed in a subtransaction, as the error
    // is caught and the call goes on.
    const auto tokens = [](const std::string &text, bool standard_conforming) {
        pg::Subtransaction sub;
        try {
            auto out = pg::script_tokens(text, standard_conforming);
            sub.commit();
            return std::optional<std::vector<std::string>>(std::move(out));
        } catch (const pg::PgError &) {
            sub.rollback();
            return std::optional<std::vector<std::string>>();
        }
    };
    const bool cosmetic = same_directives(*before, *after) &&
                          tokens(*before, true) == tokens(*after, true) &&
                          tokens(*before, false) == tokens(*after, false);
    PG_RETURN_BOOL(cosmetic);
}

}  // namespace pgm

extern "C" {
PG_FUNCTION_INFO_V1(pgm_migrate_register);
Datum pgm_migrate_register(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_register_impl);
}
PG_FUNCTION_INFO_V1(pgm_migrate_checksum);
Datum pgm_migrate_checksum(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_checksum_impl);
}
PG_FUNCTION_INFO_V1(pgm_migrate_statements);
Datum pgm_migrate_statements(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::migrate_statements_impl);
}
PG_FUNCTION_INFO_V1(pgm_script_edit_is_cosmetic);
Datum pgm_script_edit_is_cosmetic(PG_FUNCTION_ARGS) {
    return pgm::pg::call_cpp(fcinfo, pgm::script_edit_is_cosmetic_impl);
}
}
