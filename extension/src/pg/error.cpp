#include "pg/error.hpp"

#include <cstring>

namespace pgm::pg {

const char *PgError::what() const noexcept {
    return edata_ != nullptr && edata_->message != nullptr ? edata_->message : "PostgreSQL error";
}

std::string sqlstate_string(int sqlerrcode) {
    return unpack_sql_state(sqlerrcode);
}

std::string PgError::sqlstate() const {
    return edata_ != nullptr ? sqlstate_string(edata_->sqlerrcode) : "XX000";
}

void exception_stack_changed() {
    // Not recoverable: the saved jump buffers may point into returned frames.
    elog(PANIC, "pg_migrate: PostgreSQL's exception stack changed across a guarded call");
    pg_unreachable();
}

namespace {
char cleanup_failure[512];
}

void note_cleanup_failure(const char *what, const char *error) noexcept {
    if (cleanup_failure[0] != '\0') return;  // the first failure is the one to report
    snprintf(cleanup_failure, sizeof cleanup_failure, "while %s after the error: %s", what,
             error ? error : "unknown error");
}

namespace {

// Copy for use after the catch scope; never ereports (returns a fixed text on OOM).
const char *copy_no_throw(const char *text) {
    if (text == nullptr || *text == '\0') return nullptr;
    size_t n = strlen(text) + 1;
    char *copy =
        static_cast<char *>(MemoryContextAllocExtended(ErrorContext, n, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr) return "out of memory while reporting an error";
    memcpy(copy, text, n);
    return copy;
}

int errcode_from(const std::string &sqlstate) {
    if (sqlstate.size() != 5) return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3], sqlstate[4]);
}

}  // namespace

Datum call_cpp(FunctionCallInfo fcinfo, Datum (*impl)(FunctionCallInfo)) {
    ErrorData *pg_error = nullptr;
    int code = ERRCODE_INTERNAL_ERROR;
    const char *message = nullptr;
    const char *detail = nullptr;
    const char *hint = nullptr;
    try {
        return impl(fcinfo);
    } catch (const PgError &e) {
        pg_error = e.edata();
    } catch (const UserError &e) {
        code = errcode_from(e.sqlstate());
        message = copy_no_throw(e.what());
        detail = copy_no_throw(e.detail().c_str());
        hint = copy_no_throw(e.hint().c_str());
    } catch (const std::exception &e) {
        message = copy_no_throw(e.what());
    } catch (...) {
        message = "unexpected C++ exception in pg_migrate";
    }
    // Only here, with every C++ scope left, may PostgreSQL longjmp.
    if (cleanup_failure[0] != '\0') {
        // Cleanup after the error failed too: report both (the transaction aborts either way).
        const char *cleanup = copy_no_throw(cleanup_failure);
        cleanup_failure[0] = '\0';
        if (pg_error != nullptr) {
            pg_error->detail = const_cast<char *>(cleanup);
            ReThrowError(pg_error);
        }
        detail = cleanup;
    }
    if (pg_error != nullptr) ReThrowError(pg_error);
    ereport(ERROR, (errcode(code), errmsg_internal("%s", message ? message : "pg_migrate error"),
                    detail ? errdetail_internal("%s", detail) : 0, hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void warning(const std::string &message, const std::string &detail, const std::string &hint) {
    const char *m = message.c_str();
    const char *d = detail.c_str();
    const char *h = hint.c_str();
    guarded([m, d, h] {
        ereport(WARNING, (errmsg("%s", m), *d ? errdetail("%s", d) : 0, *h ? errhint("%s", h) : 0));
    });
}

void notice(const std::string &message, const std::string &detail, const std::string &hint) {
    const char *m = message.c_str();
    const char *d = detail.c_str();
    const char *h = hint.c_str();
    guarded([m, d, h] {
        ereport(NOTICE, (errmsg("%s", m), *d ? errdetail("%s", d) : 0, *h ? errhint("%s", h) : 0));
    });
}

}  // namespace pgm::pg
