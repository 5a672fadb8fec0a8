#include "testdata/test_data.hpp"

#include "db/connection.hpp"
#include "exit_code.hpp"
#include "testdata/value_expression.hpp"

#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace pgmig::testdata {

namespace {

constexpr int64_t kChunkRows = 20000;  // rows per INSERT, between progress reports
constexpr int kParentSample = 10000;   // parent keys sampled per foreign key

struct Table {
    std::string oid;
    std::string name;  // regclass text, quoted by the server
};

Table resolve_table(db::Connection &conn, const std::string &table) {
    // As typed by the user: resolved with the user's search_path.
    const auto oid = conn.resolve_relation(table);
    auto r = oid ? conn.query(
                       "SELECT c.oid::text, c.oid::regclass::text, c.relkind FROM pg_class c "
                       "WHERE c.oid = $1::oid",
                       {*oid})
                 : db::Result();
    if (r.rows.empty())
        throw UsageError("table " + table +
                         " does not exist (or is not visible on the search_path)");
    const std::string kind = r.rows[0][2].value_or("");
    if (kind != "r" && kind != "p") throw UsageError(table + " is not a table");
    return {*r.rows[0][0], *r.rows[0][1]};
}

// The primary key columns, quoted by the server, in key order.
std::vector<std::pair<std::string, std::string>> primary_key(db::Connection &conn, const Table &t) {
    auto r = conn.query(
        "SELECT a.attname, quote_ident(a.attname) FROM pg_index i "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.n",
        {t.oid});
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto &row : r.rows) out.emplace_back(*row[0], *row[1]);
    return out;
}

std::string join(const std::vector<std::string> &parts, const std::string &sep) {
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
    return out;
}

}  // namespace

GenerateResult generate(db::Connection &conn, const std::string &table_arg, int64_t rows,
                        const std::function<void(int64_t)> &progress) {
    if (rows <= 0) throw UsageError("--rows must be a positive number");
    db::Transaction tx(conn);
    const Table t = resolve_table(conn, table_arg);
    const auto pk = primary_key(conn, t);
    if (pk.empty())
        throw std::runtime_error("table " + t.name +
                                 " has no primary key: pgmig remembers generated rows by "
                                 "primary key so that cleanup removes exactly them");
    std::vector<std::string> pk_names, pk_quoted;
    for (const auto &[name, quoted] : pk) {
        pk_names.push_back(name);
        pk_quoted.push_back(quoted);
    }

    std::vector<db::Value> params;  // $1 first row number, $2 last, $3 batch id
    params.resize(3);
    auto add_param = [&params](db::Value v) {
        params.push_back(std::move(v));
        return "$" + std::to_string(params.size());
    };

    // Columns, with the catalog facts the value choice needs.
    auto cols = conn.query(
        "SELECT a.attname, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), "
        "       bt.typname, bt.typcategory, et.typname, a.attnotnull, "
        "       (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '')::text, "
        "       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid "
        "               AND i.indisunique AND a.attnum = ANY (i.indkey))::text, "
        "       CASE WHEN bt.typname IN ('varchar', 'bpchar') AND a.atttypmod > 4 "
        "            THEN a.atttypmod - 4 END, "
        "       CASE WHEN bt.typname = 'numeric' AND a.atttypmod > 4 "
        "            THEN ((a.atttypmod - 4) >> 16) & 65535 END, "
        "       CASE WHEN bt.typname = 'numeric' AND a.atttypmod > 4 "
        "            THEN (a.atttypmod - 4) & 65535 END, "
        "       a.attnum, a.attgenerated <> '' "
        "FROM pg_attribute a "
        "JOIN pg_type ty ON ty.oid = a.atttypid "
        "JOIN pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype "
        "                                 ELSE ty.oid END "
        "LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A' "
        "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        {t.oid});

    // Foreign keys: sample parent keys once into a temporary table per constraint.
    auto fks = conn.query(
        "SELECT c.oid::text, c.conname, c.confrelid::regclass::text, "
        "       (SELECT json_agg(quote_ident(a.attname) ORDER BY k.n) "
        "          FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) "
        "          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), "
        "       (SELECT json_agg(quote_ident(a.attname) ORDER BY k.n) "
        "          FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n) "
        "          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum), "
        "       (SELECT json_agg(a.attname ORDER BY k.n) "
        "          FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n) "
        "          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) "
        "FROM pg_constraint c WHERE c.conrelid = $1::oid AND c.contype = 'f' ORDER BY c.oid",
        {t.oid});
    std::map<std::string, std::string> foreign_value;  // column name -> fkN."parent col"
    std::vector<std::string> fk_joins, fk_picks;
    for (size_t i = 0; i < fks.rows.size(); ++i) {
        const auto &fk = fks.rows[i];
        const std::string alias = "fk" + std::to_string(i + 1);
        const std::string sample = "pgmig_testdata_" + alias;
        // Column lists arrive as JSON arrays (names may hold commas), quoted by the server.
        std::vector<std::string> child_names, parent_quoted;
        for (const auto &n : nlohmann::json::parse(*fk[5])) child_names.push_back(n);
        for (const auto &n : nlohmann::json::parse(*fk[4])) parent_quoted.push_back(n);
        std::string parent_cols;
        for (const auto &q : parent_quoted) parent_cols += (parent_cols.empty() ? "" : ", ") + q;
        conn.exec("CREATE TEMP TABLE " + sample +
                  " ON COMMIT DROP AS SELECT row_number() OVER () AS n, s.* FROM (SELECT " +
                  parent_cols + " FROM " + *fk[2] + " WHERE (" + parent_cols +
                  ") IS NOT NULL ORDER BY random() LIMIT " + std::to_string(kParentSample) + ") s");
        const auto count = std::stoll(*conn.query("SELECT count(*) FROM " + sample).rows[0][0]);
        if (count == 0) {
            // No parents: the columns can only be NULL; NOT NULL ones fail below.
            for (const auto &c : child_names) foreign_value[c] = "NULL";
            for (const auto &row : cols.rows)
                for (const auto &c : child_names)
                    if (*row[0] == c && *row[6] == "t" && *row[7] != "true")
                        throw std::runtime_error("column " + c + " of " + t.name + " references " +
                                                 *fk[2] + " (constraint " + *fk[1] +
                                                 "), which has no rows: generate rows "
                                                 "for " +
                                                 *fk[2] +
                                                 " first (pgmig testdata generate --table " +
                                                 *fk[2] + " --rows N)");
            continue;
        }
        fk_picks.push_back("(1 + floor(random() * " + std::to_string(count) + "))::bigint AS " +
                           alias + "_n");
        fk_joins.push_back("JOIN " + sample + " " + alias + " ON " + alias + ".n = src." + alias +
                           "_n");
        for (size_t k = 0; k < child_names.size(); ++k)
            foreign_value[child_names[k]] = alias + "." + parent_quoted[k];
    }

    // CHECK constraints: IN lists steer the values; all of them filter the rows.
    auto checks = conn.query(
        "SELECT pg_get_expr(c.conbin, c.conrelid), "
        "       (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = c.conrelid "
        "          AND a.attnum = c.conkey[1]), coalesce(cardinality(c.conkey), 0), "
        "       c.conname, "
        "       coalesce((SELECT json_agg(a.attname) FROM pg_attribute a "
        "                 WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), "
        "                '[]') "
        "FROM pg_constraint c WHERE c.conrelid = $1::oid AND c.contype = 'c'",
        {t.oid});
    // column name -> text[] literal of the values its CHECK allows; a parameter only
    // once a column uses it (an unused parameter has no type and fails the statement)
    std::map<std::string, std::string> allowed_values;
    std::vector<std::string> check_names;
    for (const auto &row : checks.rows) {
        check_names.push_back(*row[3]);
        if (row[2].value_or("0") != "1" || !row[1]) continue;
        if (const auto values = check_allowed_values(*row[0])) {
            std::string array = "{";
            for (size_t i = 0; i < values->size(); ++i) {
                std::string v;
                for (char ch : (*values)[i]) {
                    if (ch == '"' || ch == '\\') v += '\\';
                    v += ch;
                }
                array += std::string(i ? "," : "") + "\"" + v + "\"";
            }
            allowed_values[*row[1]] = array + "}";
        }
    }

    std::vector<std::string> names, values;
    std::set<std::string> generated;  // plain names of the columns given values
    for (const auto &row : cols.rows) {
        const bool has_default = *row[7] == "true";
        if (*row[13] == "t") continue;  // generated columns compute themselves
        ColumnSpec c;
        c.name = *row[0];
        c.quoted = *row[1];
        c.type_sql = *row[2];
        c.base_type = *row[3];
        c.category = row[4]->empty() ? 'X' : (*row[4])[0];
        c.element_type = row[5].value_or("");
        c.not_null = *row[6] == "t";
        c.unique = *row[8] == "true";
        if (row[9]) c.max_length = std::stoi(*row[9]);
        if (row[10]) c.precision = std::stoi(*row[10]);
        if (row[11]) c.scale = std::stoi(*row[11]);
        const auto fk = foreign_value.find(c.name);
        if (fk != foreign_value.end()) c.foreign_value = fk->second;
        // Defaults (serial, identity, now()) fill themselves, unless a foreign key or a
        // CHECK list says what belongs there.
        const auto allowed = allowed_values.find(c.name);
        if (has_default && !c.foreign_value && allowed == allowed_values.end()) continue;
        if (allowed != allowed_values.end() && !c.foreign_value)
            c.allowed_values_param = add_param(allowed->second);
        if (c.unique && !c.foreign_value && !c.allowed_values_param &&
            (c.base_type == "int2" || c.base_type == "int4" || c.base_type == "int8" ||
             c.base_type == "numeric")) {
            auto max = conn.query("SELECT coalesce(max(" + c.quoted + "), 0)::text FROM " + t.name);
            c.unique_base_param = add_param(max.rows[0][0]);
        }
        const ValueExpression v = value_expression(c, "$3");
        if (!v.error.empty())
            throw std::runtime_error("column " + c.name + " of " + t.name + ": " + v.error);
        names.push_back(c.quoted);
        generated.insert(c.name);
        values.push_back(v.sql + " AS " + c.quoted);
    }
    // Rows a CHECK rejects are generated again; a CHECK that reads a column left to its
    // default cannot be evaluated on the generated rows, so the insert itself checks it.
    std::vector<std::string> filters;
    for (const auto &row : checks.rows) {
        bool all_generated = true;
        for (const auto &n : nlohmann::json::parse(row[4].value_or("[]")))
            all_generated = all_generated && generated.count(n.get<std::string>());
        if (all_generated) filters.push_back("(" + *row[0] + ") IS NOT FALSE");
    }
    if (names.empty())
        throw std::runtime_error("every column of " + t.name +
                                 " has a default: use INSERT ... DEFAULT VALUES instead");

    auto batch = conn.query(
        "INSERT INTO pg_migrate.testdata_batch (table_oid, table_name, key_columns) "
        "VALUES ($1::oid, $2, ARRAY(SELECT jsonb_array_elements_text($3::jsonb))::name[]) "
        "RETURNING id::text",
        {t.oid, t.name, nlohmann::json(pk_names).dump()});
    params[2] = *batch.rows[0][0];

    // jsonb_build_object with the key names as parameters, values from RETURNING.
    std::vector<std::string> key_pairs;
    for (size_t i = 0; i < pk_names.size(); ++i)
        key_pairs.push_back(add_param(pk_names[i]) + "::text, ins." + pk_quoted[i]);

    const std::string sql =
        "WITH src AS (SELECT g" + std::string(fk_picks.empty() ? "" : ", ") + join(fk_picks, ", ") +
        " FROM generate_series($1::bigint, $2::bigint) g), " + "gen AS (SELECT " +
        join(values, ", ") + " FROM src " + join(fk_joins, " ") + "), " + "ins AS (INSERT INTO " +
        t.name + " (" + join(names, ", ") + ") SELECT " + join(names, ", ") + " FROM gen" +
        (filters.empty() ? "" : " WHERE " + join(filters, " AND ")) +
        " ON CONFLICT DO NOTHING RETURNING " + join(pk_quoted, ", ") + ") " +
        "INSERT INTO pg_migrate.testdata_row (batch_id, key) SELECT $3::bigint, "
        "jsonb_build_object(" +
        join(key_pairs, ", ") + ") FROM ins";

    // Row numbers continue after earlier batches of this table, so unique text values
    // (which include the row number and batch id) never repeat.
    int64_t next = 1;
    int64_t inserted = 0;
    int empty_chunks = 0;
    while (inserted < rows) {
        const int64_t want = std::min(kChunkRows, rows - inserted);
        params[0] = std::to_string(next);
        params[1] = std::to_string(next + want - 1);
        const int64_t got = conn.query(sql, params).affected;
        next += want;
        if (got == 0) {
            if (++empty_chunks >= 3)
                throw std::runtime_error(
                    "no generated row fits " + t.name +
                    (check_names.empty() ? std::string(": every row conflicted with a unique key")
                                         : ": its CHECK constraints (" + join(check_names, ", ") +
                                               ") or unique keys reject every generated row") +
                    "; nothing was inserted. pgmig reads single-column IN (...) lists; for other "
                    "rules, give the column a default that satisfies them (pgmig keeps "
                    "defaults), or insert such rows yourself");
            continue;
        }
        empty_chunks = 0;
        inserted += got;
        progress(inserted);
    }
    conn.query("UPDATE pg_migrate.testdata_batch SET rows = $2::bigint WHERE id = $1::bigint",
               {params[2], std::to_string(inserted)});
    tx.commit();
    return {std::stoll(*params[2]), t.name, inserted};
}

std::vector<BatchInfo> list_batches(db::Connection &conn) {
    auto r = conn.query(
        "SELECT b.id::text, coalesce(to_regclass(b.table_oid::regclass::text)::text, "
        "b.table_name || ' (dropped)'), b.rows::text, "
        "to_char(b.created_at, 'YYYY-MM-DD HH24:MI:SS'), b.created_by "
        "FROM pg_migrate.testdata_batch b ORDER BY b.id");
    std::vector<BatchInfo> out;
    for (const auto &row : r.rows)
        out.push_back({std::stoll(*row[0]), *row[1], std::stoll(*row[2]), *row[3], *row[4]});
    return out;
}

std::vector<CleanupResult> cleanup(db::Connection &conn, std::optional<int64_t> batch_id,
                                   bool dry_run) {
    db::Transaction tx(conn);
    auto batches = conn.query(
        "SELECT b.id::text, b.table_oid::text, b.table_name, "
        "       (SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = b.table_oid), "
        "       (SELECT string_agg(format('(r).%I', k), ', ' ORDER BY n) "
        "          FROM unnest(b.key_columns) WITH ORDINALITY u(k, n)), "
        "       (SELECT string_agg(quote_ident(k), ', ' ORDER BY n) "
        "          FROM unnest(b.key_columns) WITH ORDINALITY u(k, n)), "
        "       b.rows::text, b.created_by, "
        "       pg_catalog.has_table_privilege(b.created_by, b.table_oid, 'DELETE'), "
        "       b.created_by = session_user AND current_user = session_user "
        "FROM pg_migrate.testdata_batch b "
        // No FOR UPDATE here: row-level security would hide other roles' batches from it,
        // and they must be seen to be named. A batch of this role is locked below.
        "WHERE $1::bigint IS NULL OR b.id = $1::bigint ORDER BY b.id DESC",
        {batch_id ? db::Value(std::to_string(*batch_id)) : std::nullopt});
    if (batch_id && batches.rows.empty())
        throw UsageError("there is no test data batch " + std::to_string(*batch_id) +
                         "; pgmig testdata list shows them");
    std::vector<CleanupResult> out;
    for (const auto &b : batches.rows) {
        CleanupResult r{std::stoll(*b[0]), b[3].value_or(*b[2] + " (dropped)"), 0, ""};
        // The batch row is data another role may have written (the extension's policies make
        // created_by the role that inserted the row): only that role's own session deletes
        // its rows. Not this session lowered to it with SET ROLE: the table's triggers (and
        // the domain checks of jsonb_populate_record) are code that role may have written,
        // and code can SET ROLE back to the session user, a superuser's included.
        if (b[9].value_or("f") != "t") {
            const std::string why =
                "test data batch " + *b[0] + " was recorded by role " + b[7].value_or("?") +
                "; only a session logged in as " + b[7].value_or("that role") +
                " deletes its rows (its table's triggers would run with this session's rights)";
            if (batch_id)
                throw UsageError(why + ": connect as it and run pgmig testdata cleanup --batch " +
                                 *b[0] + " (nothing was deleted)");
            r.recorded_by_other = b[7].value_or("?");
            out.push_back(r);
            continue;
        }
        if (conn.query("SELECT 1 FROM pg_migrate.testdata_batch WHERE id = $1::bigint FOR UPDATE",
                       {*b[0]})
                .rows.empty())
            continue;  // cleaned up by another session meanwhile
        if (b[3] && b[8].value_or("f") != "t")
            throw UsageError("test data batch " + *b[0] + " was recorded by role " +
                             b[7].value_or("?") + ", who may not delete from " + *b[3] +
                             " any more; refusing to delete its rows (nothing was deleted)");
        if (b[3]) {
            const std::string keys =
                "SELECT " + *b[4] + " FROM (SELECT jsonb_populate_record(NULL::" + *b[3] +
                ", key) AS r FROM pg_migrate.testdata_row WHERE batch_id = $1::bigint) s";
            if (dry_run)
                r.rows_deleted =
                    std::stoll(*conn.query("SELECT count(*) FROM " + *b[3] + " WHERE (" + *b[5] +
                                               ") IN (" + keys + ")",
                                           {*b[0]})
                                    .rows[0][0]);
            else
                r.rows_deleted =
                    conn.query("DELETE FROM " + *b[3] + " WHERE (" + *b[5] + ") IN (" + keys + ")",
                               {*b[0]})
                        .affected;
        }
        if (!dry_run)
            conn.query("DELETE FROM pg_migrate.testdata_batch WHERE id = $1::bigint", {*b[0]});
        out.push_back(r);
    }
    if (dry_run)
        tx.rollback();
    else
        tx.commit();
    return out;
}

}  // namespace pgmig::testdata
