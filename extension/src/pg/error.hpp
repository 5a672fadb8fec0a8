// The C++/PostgreSQL error boundary (see docs/architecture.md and ../shared/style.md):
//  - guarded() runs PostgreSQL calls that may ereport and turns the longjmp into a PgError;
//  - call_cpp() runs a C++ body for an SQL-callable function and turns any C++ exception
//    into an ereport(ERROR) only after the catch scope has been left.
// Lambdas passed to guarded() must not create C++ objects with destructors: a longjmp may
// leave their frame at any PostgreSQL call.
#pragma once

#include "pg/postgres.hpp"

#include <exception>
#include <string>

namespace pgm::pg {

// A PostgreSQL ERROR caught by guarded(); the ErrorData is a copy owned by the memory
// context that was current when guarded() was entered.
class PgError : public std::exception {
  public:
    explicit PgError(ErrorData *edata) : edata_(edata) {}
    const char *what() const noexcept override;
    ErrorData *edata() const { return edata_; }
    std::string sqlstate() const;

  private:
    ErrorData *edata_;
};

// An error of our own, with the parts a user needs to act on it.
class UserError : public std::exception {
  public:
    UserError(std::string sqlstate, std::string message, std::string detail = {},
              std::string hint = {})
        : sqlstate_(std::move(sqlstate)),
          message_(std::move(message)),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}
    const char *what() const noexcept override { return message_.c_str(); }
    const std::string &sqlstate() const { return sqlstate_; }
    const std::string &detail() const { return detail_; }
    const std::string &hint() const { return hint_; }

  private:
    std::string sqlstate_, message_, detail_, hint_;
};

// Thrown when a guarded call returned with PostgreSQL's error handling stacks not as they
// were (a PG_TRY left without PG_END_TRY): continuing would longjmp into a dead frame.
[[noreturn]] void exception_stack_changed();

template <typename Fn>
void guarded(Fn &&fn) {
    MemoryContext caller_context = CurrentMemoryContext;
    sigjmp_buf *const exception_stack = PG_exception_stack;
    ErrorContextCallback *const context_stack = error_context_stack;
    ErrorData *volatile caught = nullptr;
    PG_TRY();
    { fn(); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        caught = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (PG_exception_stack != exception_stack || error_context_stack != context_stack)
        exception_stack_changed();
    if (caught != nullptr) throw PgError(caught);
}

// A destructor's PostgreSQL call failed while an exception was already unwinding: the
// error reported at the boundary (call_cpp) says so in its detail.
void note_cleanup_failure(const char *what, const char *error) noexcept;

// The body of every SQL-callable function: runs impl, converts C++ exceptions to ereport.
Datum call_cpp(FunctionCallInfo fcinfo, Datum (*impl)(FunctionCallInfo));

std::string sqlstate_string(int sqlerrcode);

// Sends a WARNING to the client (and the log) and goes on.
void warning(const std::string &message, const std::string &detail, const std::string &hint);
// The same at NOTICE: something the caller should know that is not a problem.
void notice(const std::string &message, const std::string &detail = "",
            const std::string &hint = "");

}  // namespace pgm::pg
