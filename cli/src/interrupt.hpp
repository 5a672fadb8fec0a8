// Ctrl-C and SIGTERM: the first one cancels the statement the server is running for pgmig
// (libpq's PQcancel, which is safe in a signal handler) and makes pgmig stop at its next step;
// the command then reports where things stand and pgmig exits 130. A second one exits at once,
// saying that the backend may still be running (with its pid).
#pragma once

#include <stdexcept>

struct pg_cancel;

namespace pgmig::interrupt {

// Installs the handlers for SIGINT and SIGTERM (once, at start).
void install();

// Whether a signal asked pgmig to stop, and which.
bool requested();
int signal_number();

// The statement a signal cancels: set while a connection waits for the server; nullptr
// when none is running.
void set_running(pg_cancel *cancel, int backend_pid);

// Lets the command query again after an interruption, to report the state it left (a later
// query would otherwise throw Interrupted at once).
void allow_report();
bool report_allowed();

// Thrown by a connection asked to start a statement after an interruption.
class Interrupted : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

constexpr int kExitCode = 130;

}  // namespace pgmig::interrupt
