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

}  // namespace pgm::pg
