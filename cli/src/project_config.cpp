#include "project_config.hpp"

#include "exit_code.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <sstream>

namespace pgmig {

namespace {

// Options that say how far a command goes or that skip a safety check.
const std::set<std::string> kTypedOnly = {"to",           "steps",           "all",
                                          "batch",        "accept-checksum", "allow-out-of-order",
                                          "no-preflight", "skip-preflight",  "skip-validate",
                                          "reason",       "forget"};

std::string where(const std::filesystem::path &path, const toml::source_region &region) {
    return path.string() + ":" + std::to_string(region.begin.line);
}

// One TOML value as the text that would follow the option on the command line.
std::string value_text(const toml::node &node, const std::string &source) {
    if (auto s = node.as_string()) return s->get();
    if (auto i = node.as_integer()) return std::to_string(i->get());
    if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
    if (auto a = node.as_array()) {
        // A repeatable option: CLI11 reads "[a,b]" as its values.
        std::string out = "[";
        for (const auto &element : *a) {
            auto s = element.as_string();
            if (!s || s->get().find_first_of(",[]") != std::string::npos || s->get().empty())
                throw UsageError(source + ": an array holds strings without commas or brackets");
            out += (out.size() > 1 ? "," : "") + s->get();
        }
        return out + "]";
    }
    throw UsageError(source +
                     ": a value is a string, an integer, a boolean or an array of strings");
}

void collect(const toml::table &table, const std::vector<std::string> &command,
             const std::filesystem::path &path, std::vector<ConfigSetting> &out) {
    for (const auto &[key, node] : table) {
        const std::string name(key.str());
        const std::string source = where(path, node.source());
        if (auto sub = node.as_table()) {
            auto deeper = command;
            deeper.push_back(name);
            collect(*sub, deeper, path, out);
            continue;
        }
        out.push_back({command, name, value_text(node, source), source});
    }
}

// The command a setting names: the app itself for none; nullptr when there is no such one.
CLI::App *command_of(CLI::App &app, const std::vector<std::string> &path) {
    CLI::App *at = &app;
    for (const auto &name : path) {
        CLI::App *next = nullptr;
        for (CLI::App *sub : at->get_subcommands({}))
            if (sub->get_name() == name) next = sub;
        if (!next) return nullptr;
        at = next;
    }
    return at;
}

void options_named(CLI::App &app, const std::string &name, std::vector<CLI::Option *> &out) {
    for (CLI::App *sub : app.get_subcommands({})) {
        if (CLI::Option *o = sub->get_option_no_throw("--" + name)) out.push_back(o);
        options_named(*sub, name, out);
    }
}

std::string joined(const std::vector<std::string> &path) {
    std::string out;
    for (const auto &p : path) out += (out.empty() ? "" : " ") + p;
    return out;
}

}  // namespace

std::vector<ConfigSetting> read_config_file(const std::filesystem::path &path) {
    toml::table table;
    try {
        table = toml::parse_file(path.string());
    } catch (const toml::parse_error &e) {
        throw UsageError(where(path, e.source()) +
                         ": not valid TOML: " + std::string(e.description()));
    }
    std::vector<ConfigSetting> out;
    collect(table, {}, path, out);
    return out;
}

std::vector<ConfigSetting> read_environment(
    const std::vector<std::string> &option_names,
    const std::function<std::optional<std::string>(const std::string &)> &lookup) {
    std::vector<ConfigSetting> out;
    // DATABASE_URL first: PGMIG_DB, after it, wins.
    if (auto url = lookup("DATABASE_URL"); url && !url->empty())
        out.push_back({{}, "db", *url, "DATABASE_URL"});
    std::set<std::string> seen;
    for (const auto &name : option_names) {
        if (!seen.insert(name).second) continue;
        std::string variable = "PGMIG_";
        for (char c : name)
            variable +=
                c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (auto value = lookup(variable); value && !value->empty())
            out.push_back({{}, name, *value, variable});
    }
    return out;
}

std::vector<std::string> long_option_names(const CLI::App &app) {
    std::vector<std::string> out;
    for (const CLI::Option *o : app.get_options())
        for (const auto &n : o->get_lnames()) out.push_back(n);
    for (const CLI::App *sub : app.get_subcommands({})) {
        auto more = long_option_names(*sub);
        out.insert(out.end(), more.begin(), more.end());
    }
    return out;
}

void apply_settings(CLI::App &app, const std::vector<ConfigSetting> &settings) {
    for (const auto &s : settings) {
        if (s.option == "help" || s.option == "version" || s.option == "config")
            throw UsageError(s.source + ": --" + s.option + " cannot be set there");
        CLI::App *command = command_of(app, s.command);
        if (!command)
            throw UsageError(s.source + ": there is no command " + joined(s.command) +
                             " (pgmig --help lists them)");
        std::vector<CLI::Option *> targets;
        if (CLI::Option *o = command->get_option_no_throw("--" + s.option))
            targets.push_back(o);
        else
            options_named(*command, s.option, targets);  // [backup] store = ... for each one
        if (targets.empty()) {
            // An environment variable names options of commands (PGMIG_LOCK_WAIT): only a
            // file's key must name an option that exists there.
            if (s.source.rfind("PGMIG_", 0) == 0 || s.source == "DATABASE_URL") continue;
            throw UsageError(
                s.source + ": " +
                (s.command.empty() ? std::string("pgmig") : "pgmig " + joined(s.command)) +
                " has no option --" + s.option);
        }
        for (CLI::Option *o : targets) {
            // Options that choose how much a command does, or that turn a safety check off,
            // are never defaults: a forgotten PGMIG_TO would make a bare `pgmig down`
            // revert everything, and a default would slip past the options it excludes
            // (CLI11 checks excludes only among flags typed). They must be typed each time.
            if (kTypedOnly.count(s.option) || !o->get_excludes().empty() ||
                !o->get_needs().empty()) {
                if (s.source.rfind("PGMIG_", 0) == 0) continue;  // a variable: skip quietly
                throw UsageError(s.source + ": --" + s.option +
                                 " cannot be set in a file; give it on the command line");
            }
            try {
                const std::string shown = o->get_default_str();
                o->run_callback_for_default();
                o->default_val(s.value);
                // --help keeps showing the built-in default: a setting may hold a password.
                o->default_str(shown);
            } catch (const CLI::ParseError &) {
                // The value is not repeated: it may be a password or a key.
                // CLI11's type name carries the validator after a colon: "INT:INT in [1 - 9]".
                std::string type = o->get_type_name();
                if (type.find(':') != std::string::npos) type = type.substr(type.find(':') + 1);
                throw UsageError(s.source + ": not a valid value for --" + s.option + " (" +
                                 (type.empty() ? "see its --help for what is" : type) +
                                 " expected)");
            }
        }
    }
}

std::optional<std::string> config_flag(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--") break;
        if (a == "--config" && i + 1 < argc) return std::string(argv[i + 1]);
        if (a.rfind("--config=", 0) == 0) return a.substr(std::strlen("--config="));
    }
    return std::nullopt;
}

}  // namespace pgmig
