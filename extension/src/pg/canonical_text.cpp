#include "pg/canonical_text.hpp"

#include "pg/error.hpp"

extern "C" {
#include "utils/lsyscache.h"
}

namespace pgm::pg {

namespace {

// Pushes a GUC nest level with the fixed settings; the caller pops it with AtEOXact_GUC.
int push_canonical_settings() {
    static const char *const settings[][2] = {{"DateStyle", "ISO, YMD"},
                                              {"IntervalStyle", "postgres"},
                                              {"extra_float_digits", "3"},
                                              {"TimeZone", "UTC"},
                                              {"bytea_output", "hex"}};
    int level = NewGUCNestLevel();
    for (const auto &s : settings)
        (void)set_config_option(s[0], s[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
                                false);
    return level;
}

}  // namespace

std::string canonical_output(Oid type, Datum value) {
    char *text = nullptr;
    guarded([&text, type, value] {
        int level = push_canonical_settings();
        Oid output = InvalidOid;
        bool varlena = false;
        getTypeOutputInfo(type, &output, &varlena);
        text = OidOutputFunctionCall(output, value);
        AtEOXact_GUC(true, level);
    });
    return text;
}

Datum canonical_input(Oid type, const std::string &text) {
    Datum value = (Datum)0;
    const char *input_text = text.c_str();
    guarded([&value, type, input_text] {
        int level = push_canonical_settings();
        Oid input = InvalidOid, ioparam = InvalidOid;
        getTypeInputInfo(type, &input, &ioparam);
        value = OidInputFunctionCall(input, pstrdup(input_text), ioparam, -1);
        AtEOXact_GUC(true, level);
    });
    return value;
}

}  // namespace pgm::pg
