#include "pg/session_limits.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

ScopedLockTimeout::ScopedLockTimeout(int lock_timeout_ms) {
    char value[32];
    snprintf(value, sizeof value, "%dms", lock_timeout_ms < 0 ? 0 : lock_timeout_ms);
    int level = -1;
    char *saved_path = nullptr;
    guarded([&level, &value, &saved_path] {
        level = NewGUCNestLevel();
        (void)set_config_option("lock_timeout", value, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                                true, 0, false);
        saved_path = pstrdup(GetConfigOption("search_path", false, false));
        (void)set_config_option("search_path", saved_path, PGC_USERSET, PGC_S_SESSION,
                                GUC_ACTION_SAVE, true, 0, false);
    });
    nest_level_ = level;
    search_path_ = saved_path;
}

void ScopedLockTimeout::restore() {
    if (nest_level_ < 0) return;
    int level = nest_level_;
    nest_level_ = -1;
    const char *saved_path = search_path_;
    guarded([level, saved_path] {
        // A plain SET in the script turned the saved entry into a SET, which would outlive
        // the nest level (PostgreSQL's rule for SET inside a function with a SET clause):
        // put the caller's value back explicitly.
        if (saved_path != nullptr &&
            strcmp(GetConfigOption("search_path", false, false), saved_path) != 0)
            (void)set_config_option("search_path", saved_path, PGC_USERSET, PGC_S_SESSION,
                                    GUC_ACTION_SET, true, 0, false);
        AtEOXact_GUC(true, level);
    });
}

StatementTimer::StatementTimer(int timeout_ms) {
    if (timeout_ms <= 0) return;
    bool outer_active = false;
    TimestampTz outer_finish = 0, finish = 0;
    guarded([&outer_active, &outer_finish, &finish, timeout_ms] {
        outer_active = get_timeout_active(STATEMENT_TIMEOUT);
        if (outer_active) outer_finish = get_timeout_finish_time(STATEMENT_TIMEOUT);
        finish = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
        if (!outer_active || finish < outer_finish) enable_timeout_at(STATEMENT_TIMEOUT, finish);
    });
    outer_active_ = outer_active;
    outer_finish_ = outer_finish;
    finish_ = finish;
    armed_ = true;
}

void StatementTimer::disarm() {
    if (!armed_) return;
    armed_ = false;
    bool outer_active = outer_active_;
    TimestampTz outer_finish = outer_finish_;
    guarded([outer_active, outer_finish] {
        // The caller's own timer is re-armed unless its time has already come (then it has
        // fired, or its cancel is already pending).
        if (outer_active && outer_finish > GetCurrentTimestamp())
            enable_timeout_at(STATEMENT_TIMEOUT, outer_finish);
        else
            disable_timeout(STATEMENT_TIMEOUT, false);
    });
}

StatementTimer::~StatementTimer() {
    try {
        disarm();
    } catch (const std::exception &e) {
        note_cleanup_failure("re-arming the caller's statement timeout", e.what());
    }
}

bool StatementTimer::fired() const {
    if (finish_ == 0) return false;
    TimestampTz finish = finish_;
    bool passed = false;
    guarded([&passed, finish] { passed = GetCurrentTimestamp() >= finish; });
    return passed;
}

Identity current_identity() {
    Identity id;
    Identity *out = &id;
    guarded([out] {
        GetUserIdAndSecContext(&out->user, &out->security_context);
        out->session_user = GetSessionUserId();
    });
    return id;
}

void require_identity(const Identity &expected, const char *statement_kind) {
    const Identity *want = &expected;
    guarded([want, statement_kind] {
        Oid user = InvalidOid;
        int context = 0;
        GetUserIdAndSecContext(&user, &context);
        if (user == want->user && GetSessionUserId() == want->session_user &&
            context == want->security_context)
            return;
        const char *was = GetUserNameFromId(want->user, true);
        const char *now = GetUserNameFromId(user, true);
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("a %s may not change the role it runs as", statement_kind),
                        errdetail("The statement changed the current user from \"%s\" to \"%s\" "
                                  "(SET ROLE, SET SESSION AUTHORIZATION, RESET ALL or set_config).",
                                  was ? was : "?", now ? now : "?"),
                        errhint("Run the migration as the role it needs, or grant that role's "
                                "privileges to the deploying role.")));
    });
}

void sleep_ms(int ms) {
    if (ms <= 0) return;
    guarded([ms] {
        TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
        for (;;) {
            CHECK_FOR_INTERRUPTS();
            long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
            if (left <= 0) break;
            (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
                            PG_WAIT_EXTENSION);
            ResetLatch(MyLatch);
        }
    });
}

int parse_duration_ms(const std::string &text, const char *what) {
    const char *value = text.c_str();
    int result = 0;
    bool ok = false;
    const char *hint = nullptr;
    guarded([&] { ok = parse_int(value, &result, GUC_UNIT_MS, &hint); });
    if (!ok || result < 0)
        throw UserError(
            "22023", std::string("invalid ") + what + ": \"" + text + "\"", hint ? hint : "",
            "Use a number of milliseconds or a duration such as '500ms', '2s' or '1min'.");
    return result;
}

bool in_transaction_block() {
    return IsTransactionBlock();
}

bool at_read_committed() {
    return !IsolationUsesXactSnapshot();
}

TimestampTz now() {
    return GetCurrentTimestamp();
}

std::string format_timestamp(TimestampTz ts) {
    const char *s = nullptr;
    guarded([&s, ts] { s = timestamptz_to_str(ts); });
    return s;
}

}  // namespace pgm::pg
