// How `pgmig testdata generate` makes a realistic value for one column: a SQL expression
// over the row number `g` (bigint, unique across batches of a table) chosen from the column's
// type, name, constraints and foreign key. Pure, so every choice is unit-tested; identifiers
// and type names arrive already quoted by the server (quote_ident, format_type).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgmig::testdata {

struct ColumnSpec {
    std::string name;          // as in the catalog, for the name heuristics (email, city, ...)
    std::string quoted;        // quote_ident(name)
    std::string type_sql;      // format_type(atttypid, atttypmod), for casts
    std::string base_type;     // pg_type.typname after resolving domains: int4, varchar, _text
    char category = 'X';       // pg_type.typcategory of the base type
    std::string element_type;  // for arrays: typname of the element type
    bool not_null = false;
    bool unique = false;  // part of a primary key or unique index
    int max_length = -1;  // varchar(n), char(n)
    int precision = -1;   // numeric(p, s)
    int scale = -1;
    // Parameter ($n) holding a text[] of the values a CHECK (col IN (...)) allows.
    std::optional<std::string> allowed_values_param;
    // Parameter ($n) holding the current maximum of a unique integer column.
    std::optional<std::string> unique_base_param;
    // The sampled parent value for a foreign key column, e.g. fk1."id".
    std::optional<std::string> foreign_value;
};

struct ValueExpression {
    std::string sql;    // empty when `error` is set
    std::string error;  // why no value can be generated for this column
};

// `batch_param` is the parameter ($n) holding the batch id, which text values include so
// that unique values never collide with an earlier batch.
ValueExpression value_expression(const ColumnSpec &column, const std::string &batch_param);

// The values a single-column CHECK constraint allows when it is an IN list or an equality,
// read from its deparsed expression (pg_get_expr), e.g.
// "(status = ANY (ARRAY['active'::text, 'banned'::text]))" -> {"active", "banned"}.
// Nothing when the expression is anything else.
std::optional<std::vector<std::string>> check_allowed_values(const std::string &check_expression);

}  // namespace pgmig::testdata
