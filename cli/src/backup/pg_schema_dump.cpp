#include "backup/pg_schema_dump.hpp"

#include "backup/object_io.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>

extern char **environ;

namespace pgmig::backup {

namespace {

// The PG* variables that carry `conninfo` to a child libpq program, from libpq's own table.
std::map<std::string, std::string> connection_environment(const std::string &conninfo) {
    std::map<std::string, std::string> vars;
    if (conninfo.empty()) return vars;
    char *error = nullptr;
    PQconninfoOption *options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
        std::string why = error ? error : "invalid connection string";
        PQfreemem(error);
        throw std::runtime_error("cannot pass the connection to pg_dump: " + why);
    }
    for (PQconninfoOption *o = options; o->keyword; ++o)
        if (o->val && *o->val && o->envvar) vars[o->envvar] = o->val;
    PQconninfoFree(options);
    return vars;
}

}  // namespace

std::string ddl_for_libpq(const std::string &script) {
    std::string out;
    size_t start = 0;
    while (start < script.size()) {
        size_t end = script.find('\n', start);
        if (end == std::string::npos) end = script.size();
        if (script[start] != '\\') out.append(script, start, end - start).append("\n");
        start = end + 1;
    }
    return out;
}

archive::ObjectEntry dump_schema(const std::string &conninfo, const std::string &snapshot,
                                 const std::vector<std::string> &quoted_tables, store::Store &store,
                                 const std::string &backup_id, const std::string &path,
                                 const archive::BackupKey &backup_key) {
    std::vector<std::string> args = {"pg_dump",         "--schema-only",
                                     "--no-owner",      "--no-privileges",
                                     "--encoding=UTF8", "--snapshot=" + snapshot};
    for (const auto &t : quoted_tables) args.push_back("--table=" + t);
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    // The child's environment: ours, with the connection's PG* settings on top.
    std::map<std::string, std::string> env;
    for (char **e = environ; *e; ++e) {
        const char *eq = std::strchr(*e, '=');
        if (eq) env[std::string(*e, static_cast<size_t>(eq - *e))] = eq + 1;
    }
    for (const auto &[k, v] : connection_environment(conninfo)) env[k] = v;
    std::vector<std::string> env_text;
    for (const auto &[k, v] : env) env_text.push_back(k + "=" + v);
    std::vector<char *> envp;
    for (auto &e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);

    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("cannot start pg_dump: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, "pg_dump", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error(std::string("cannot run pg_dump (needed by --with-ddl): ") +
                                 std::strerror(rc));
    }
    std::string errors;
    archive::ObjectEntry entry;
    try {
        StoredObjectWriter out(store, backup_id, path, backup_key, 3, 0);
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::read(out_pipe[0], buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            out.write(buffer, static_cast<size_t>(n));
        }
        for (;;) {
            const ssize_t n = ::read(err_pipe[0], buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            errors.append(buffer, static_cast<size_t>(n));
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        pid = 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            while (!errors.empty() && errors.back() == '\n') errors.pop_back();
            throw std::runtime_error("pg_dump --schema-only failed: " + errors);
        }
        entry = out.finish();
    } catch (...) {
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            int status = 0;
            waitpid(pid, &status, 0);
        }
        throw;
    }
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return entry;
}

}  // namespace pgmig::backup
