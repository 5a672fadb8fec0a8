#include "pg/arguments.hpp"

#include "pg/error.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace pgm::pg {

std::optional<std::string> text_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    char *s = nullptr;
    guarded([&s, fcinfo, n] { s = text_to_cstring(PG_GETARG_TEXT_PP(n)); });
    std::string out(s);
    guarded([s] { pfree(s); });
    return out;
}

std::optional<bool> bool_arg(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    return PG_GETARG_BOOL(n);
}

std::optional<std::string> jsonb_arg_as_text(FunctionCallInfo fcinfo, int n) {
    if (PG_ARGISNULL(n)) return std::nullopt;
    char *s = nullptr;
    guarded([&s, fcinfo, n] {
        Jsonb *j = PG_GETARG_JSONB_P(n);
        s = JsonbToCString(nullptr, &j->root, VARSIZE(j));
    });
    return std::string(s);
}

Datum text_datum(const std::string &value) {
    Datum d = 0;
    const char *p = value.data();
    int len = static_cast<int>(value.size());
    guarded([&d, p, len] { d = PointerGetDatum(cstring_to_text_with_len(p, len)); });
    return d;
}

Datum text_array_datum(const std::vector<std::string> &values) {
    std::vector<const char *> cs;
    for (const auto &v : values) cs.push_back(v.c_str());
    const char *const *data = cs.data();
    const int n = static_cast<int>(cs.size());
    Datum d = 0;
    guarded([&d, data, n] {
        Datum *items = static_cast<Datum *>(palloc(sizeof(Datum) * (n > 0 ? n : 1)));
        for (int i = 0; i < n; ++i) items[i] = CStringGetTextDatum(data[i]);
        d = PointerGetDatum(construct_array(items, n, TEXTOID, -1, false, TYPALIGN_INT));
    });
    return d;
}

Oid argument_type(FunctionCallInfo fcinfo, int n) {
    Oid type = InvalidOid;
    guarded([&type, fcinfo, n] { type = get_fn_expr_argtype(fcinfo->flinfo, n); });
    return type;
}

}  // namespace pgm::pg
