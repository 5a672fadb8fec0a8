#include "interrupt.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace pgmig::interrupt {

namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_count{0};
std::atomic<bool> g_report{false};
std::atomic<PGcancel *> g_cancel{nullptr};
std::atomic<int> g_backend_pid{0};

void write_err(const char *text) {
    ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
    (void)ignored;
}

// Only async-signal-safe calls: lock-free atomics, PQcancel, write, _exit.
void on_signal(int sig) {
    const int n = ++g_count;
    g_signal = sig;
    if (n == 1) {
        write_err(
            "\npgmig: interrupted: cancelling the running statement and stopping "
            "(again to exit at once)\n");
        if (PGcancel *c = g_cancel.load()) {
            char errbuf[256];
            PQcancel(c, errbuf, sizeof errbuf);
        }
        return;
    }
    char pid[16];
    int len = 0;
    for (int v = g_backend_pid.load(); len == 0 || v > 0; v /= 10) pid[len++] = char('0' + v % 10);
    char digits[16];
    for (int i = 0; i < len; ++i) digits[i] = pid[len - 1 - i];
    digits[len] = '\0';
    write_err(
        "\npgmig: interrupted again: exiting now; the server may still be running the "
        "statement (backend pid ");
    write_err(digits);
    write_err("): SELECT pg_cancel_backend(");
    write_err(digits);
    write_err(")\n");
    _exit(kExitCode);
}

}  // namespace

void install() {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

bool requested() {
    return g_count.load() > 0;
}
int signal_number() {
    return g_signal.load();
}

void set_running(pg_cancel *cancel, int backend_pid) {
    g_cancel = cancel;
    if (cancel) g_backend_pid = backend_pid;
}

void allow_report() {
    g_report = true;
}
bool report_allowed() {
    return g_report.load();
}

}  // namespace pgmig::interrupt
