// The exit codes pgmig documents in `pgmig --help`; scripts and CI branch on them.
#pragma once

#include <stdexcept>

namespace pgmig {

enum class ExitCode : int {
    kOk = 0,
    kFailed = 1,               // the command ran and failed (database error, I/O error, ...)
    kUsageError = 2,           // bad command line; nothing was done
    kRefusedBySafetyCheck = 3  // a safety check said no; nothing was changed
};

// Thrown by a command whose arguments are wrong in a way the parser cannot see.
class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Thrown by a command that stops before changing anything because a safety check failed.
class RefusedBySafetyCheck : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace pgmig
