#include "testdata/value_expression.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace pgmig::testdata {

namespace {

bool name_has(const std::string &name, std::initializer_list<const char *> words) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char *w : words)
        if (lower.find(w) != std::string::npos) return true;
    return false;
}

// A random element of a constant list (our own words, never user input).
std::string pick(std::initializer_list<const char *> words) {
    std::string list;
    for (const char *w : words) list += std::string(list.empty() ? "" : ",") + "'" + w + "'";
    return "(ARRAY[" + list + "])[1 + floor(random() * " + std::to_string(words.size()) + ")::int]";
}

std::string random_int(long long low, long long high) {
    return "(" + std::to_string(low) + " + floor(random() * " + std::to_string(high - low + 1) +
           "))::bigint";
}

// Text that reads like the column: names, emails, cities, ...; `unique` puts the row
// number first, so a short varchar keeps it when the rest is cut.
std::string text_value(const ColumnSpec &c, const std::string &batch) {
    const std::string n = c.name;
    const std::string id = "g::text || 'b' || " + batch;
    if (name_has(n, {"email", "mail"}))
        return c.unique ? "'user' || " + id + " || '@example.com'"
                        : "'user' || floor(random() * 100000)::int || '@example.com'";
    std::string words;
    if (name_has(n, {"first_name", "firstname", "given"}))
        words = pick({"Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Edsger",
                      "Frances", "Dennis", "Radia", "Tim"});
    else if (name_has(n, {"last_name", "lastname", "surname", "family"}))
        words = pick({"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov",
                      "Dijkstra", "Allen", "Ritchie", "Perlman", "Berners-Lee"});
    else if (name_has(n, {"user", "login", "handle", "nick"}))
        words = pick({"ada", "alan", "grace", "linus", "margaret", "ken"}) +
                " || floor(random() * 10000)::int";
    else if (name_has(n, {"name", "title"}))
        words =
            pick({"Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara"}) + " || ' ' || " +
            pick({"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov"});
    else if (name_has(n, {"city", "town"}))
        words = pick({"Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Austin", "Lyon", "Pune"});
    else if (name_has(n, {"country"}))
        words = pick({"PT", "NO", "KE", "JP", "PE", "US", "FR", "IN"});
    else if (name_has(n, {"phone", "mobile", "tel"}))
        words = "'+1-555-' || lpad(floor(random() * 10000000)::int::text, 7, '0')";
    else if (name_has(n, {"url", "website", "link", "homepage"}))
        words = "'https://example.com/' || md5(random()::text)";
    else if (name_has(n, {"address", "street"}))
        words = "floor(1 + random() * 999)::int || ' ' || " +
                pick({"Main St", "Oak Ave", "Elm St", "Harbour Rd", "Station Sq"});
    else if (name_has(n, {"status", "state"}))
        words = pick({"active", "pending", "disabled"});
    else if (name_has(n, {"description", "bio", "note", "comment", "body", "text", "summary"}))
        words = pick({"Migrations", "Backups", "Indexes", "Tables", "Queries"}) + " || ' ' || " +
                pick({"are", "stay", "look", "feel"}) + " || ' ' || " +
                pick({"safe", "fast", "verified", "boring", "consistent"}) + " || '.'";
    else
        words = pick({"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"}) +
                " || '-' || floor(random() * 100000)::int";
    std::string value = c.unique ? id + " || '-' || " + words : words;
    if (c.max_length > 0) value = "left(" + value + ", " + std::to_string(c.max_length) + ")";
    return value;
}

std::string element_value(const std::string &element_type) {
    if (element_type == "int2" || element_type == "int4" || element_type == "int8")
        return random_int(1, 1000);
    if (element_type == "text" || element_type == "varchar")
        return pick({"red", "green", "blue", "amber", "teal"});
    if (element_type == "float4" || element_type == "float8" || element_type == "numeric")
        return "round((random() * 100)::numeric, 2)";
    return "";
}

}  // namespace

ValueExpression value_expression(const ColumnSpec &c, const std::string &batch) {
    if (c.foreign_value) return {*c.foreign_value, ""};
    std::string v;
    const std::string &t = c.base_type;
    if (c.allowed_values_param) {
        // A CHECK (col IN (...)) list: one of its values. Unique columns cannot repeat
        // them, which the insert reports as a conflict on the second row.
        const std::string &p = *c.allowed_values_param;
        v = "(" + p + "::text[])[1 + floor(random() * cardinality(" + p + "::text[]))::int]";
    } else if (t == "int2" || t == "int4" || t == "int8") {
        if (c.unique)
            v = "(" + c.unique_base_param.value_or("0") + "::bigint + g)";
        else if (name_has(c.name, {"age"}))
            v = random_int(18, 90);
        else if (name_has(c.name, {"year"}))
            v = random_int(1990, 2026);
        else if (name_has(c.name, {"count", "quantity", "qty", "score", "rank", "level"}))
            v = random_int(0, 100);
        else
            v = random_int(1, t == "int2" ? 30000 : 1000000);
    } else if (t == "numeric") {
        if (c.unique) {
            v = "(" + c.unique_base_param.value_or("0") + "::numeric + g)";
        } else {
            const int integer_digits =
                c.precision > 0 ? std::min(c.precision - std::max(c.scale, 0), 6) : 4;
            const int scale = c.precision > 0 ? std::max(c.scale, 0) : 2;
            v = integer_digits <= 0
                    ? "round(random()::numeric * 0.9, " + std::to_string(scale) + ")"
                    : "round((random() * " +
                          std::to_string(static_cast<long long>(std::pow(10, integer_digits) - 1)) +
                          ")::numeric, " + std::to_string(scale) + ")";
        }
    } else if (t == "float4" || t == "float8") {
        v = c.unique ? "(g + random())" : "(random() * 1000)";
    } else if (t == "bool") {
        if (c.unique) return {"", "a unique boolean column allows only two rows"};
        v = "(random() < 0.5)";
    } else if (c.category == 'S') {  // text, varchar, bpchar, name, citext
        v = text_value(c, batch);
    } else if (t == "date") {
        v = c.unique ? "(date '2000-01-01' + g::int)"
                     : "(current_date - floor(random() * 3650)::int)";
    } else if (t == "timestamp" || t == "timestamptz") {
        v = c.unique ? "(timestamp '2000-01-01' + g * interval '1 second')"
                     : "(now() - random() * interval '365 days')";
    } else if (t == "time" || t == "timetz") {
        v = "(time '00:00' + random() * interval '23 hours 59 minutes')";
    } else if (t == "interval") {
        v = "(random() * interval '30 days')";
    } else if (t == "uuid") {
        v = "gen_random_uuid()";
    } else if (t == "json" || t == "jsonb") {
        v = "jsonb_build_object('batch', " + batch + "::bigint, 'n', g, 'tag', " +
            pick({"red", "green", "blue"}) + ", 'score', round((random() * 100)::numeric, 1))";
    } else if (t == "bytea") {
        v = "decode(md5(g::text || random()::text), 'hex')";
    } else if (t == "inet" || t == "cidr") {
        v = "('10.' || (g / 65536 % 256) || '.' || (g / 256 % 256) || '.' || (g % 256))";
    } else if (c.category == 'E') {
        if (c.unique) return {"", "a unique enum column allows one row per label"};
        v = "(enum_range(NULL::" + c.type_sql +
            "))[1 + floor(random() * cardinality(enum_range(NULL::" + c.type_sql + ")))::int]";
    } else if (c.category == 'A') {
        const std::string e = element_value(c.element_type);
        if (e.empty()) {
            if (!c.not_null) return {"NULL", ""};
            v = "'{}'";
        } else {
            v = "ARRAY[" + e + ", " + e + "]";
        }
    } else {
        if (!c.not_null) return {"NULL", ""};
        return {"", "pgmig testdata cannot generate values of type " + c.type_sql +
                        "; give the column a default or allow NULL"};
    }
    v = "(" + v + ")::" + c.type_sql;
    // Nullable columns get a NULL now and then, as real data does.
    if (!c.not_null && !c.unique) v = "CASE WHEN random() < 0.1 THEN NULL ELSE " + v + " END";
    return {v, ""};
}

std::optional<std::vector<std::string>> check_allowed_values(const std::string &expr) {
    size_t open = expr.find("ARRAY[");
    std::string list;
    if (open != std::string::npos && expr.find("= ANY") != std::string::npos) {
        open += 6;
        int depth = 0;
        size_t end = open;
        bool quoted = false;
        for (; end < expr.size(); ++end) {
            const char ch = expr[end];
            if (ch == '\'') quoted = !quoted;  // '' inside a literal toggles twice
            if (quoted) continue;
            if (ch == '[') ++depth;
            if (ch == ']' && depth-- == 0) break;
        }
        if (end >= expr.size()) return std::nullopt;
        list = expr.substr(open, end - open);
    } else {
        // "(status = 'x'::text)"
        const size_t eq = expr.find(" = '");
        if (eq == std::string::npos || expr.find(" AND ") != std::string::npos ||
            expr.find(" OR ") != std::string::npos)
            return std::nullopt;
        list = expr.substr(eq + 3);
        while (!list.empty() && list.back() == ')') list.pop_back();
    }
    std::vector<std::string> values;
    size_t i = 0;
    while (i < list.size()) {
        while (i < list.size() && (list[i] == ' ' || list[i] == ',' || list[i] == '(')) ++i;
        if (i >= list.size()) break;
        std::string value;
        if (list[i] == '\'') {
            ++i;
            for (; i < list.size(); ++i) {
                if (list[i] == '\'') {
                    if (i + 1 < list.size() && list[i + 1] == '\'') {
                        value += '\'';
                        ++i;
                        continue;
                    }
                    ++i;
                    break;
                }
                value += list[i];
            }
        } else {
            while (i < list.size() && list[i] != ',' && list[i] != ':' && list[i] != ')')
                value += list[i++];
        }
        // skip a cast (::text, ::character varying) up to the next element
        while (i < list.size() && list[i] != ',') ++i;
        values.push_back(value);
    }
    if (values.empty()) return std::nullopt;
    return values;
}

}  // namespace pgmig::testdata
