#include "usage_message.hpp"

#include <cctype>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <vector>

namespace pgmig {

namespace {

// The type name of the option called `name` (--rows, or a positional's name) anywhere in
// the app: INT, TEXT, ... ("" when no option has that name).
std::string type_of(const CLI::App &app, const std::string &name) {
    for (const CLI::Option *o : app.get_options()) {
        const std::string n = name.rfind("--", 0) == 0 ? name.substr(2) : name;
        if (o->check_lname(n) || o->check_name(name) || o->get_name() == name)
            return o->get_type_name();
    }
    for (const CLI::App *sub : app.get_subcommands({})) {
        const std::string t = type_of(*sub, name);
        if (!t.empty()) return t;
    }
    return "";
}

std::string kind_of_value(std::string type) {
    // CLI11 adds the validator after a colon: "INT:POSITIVE".
    if (type.find(':') != std::string::npos) type = type.substr(0, type.find(':'));
    if (type == "INT" || type == "UINT" || type == "SECONDS" || type == "N" || type == "ID")
        return "a whole number";
    if (type == "FLOAT") return "a number";
    return "";
}

// 1 for "1", "1000" for "1000.000000", "" for a bound too large to be one a user meant.
std::string plain_number(const std::string &text) {
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || v > 1e15 || v < -1e15) return "";
    std::ostringstream out;
    if (v == static_cast<double>(static_cast<long long>(v)))
        out << static_cast<long long>(v);
    else
        out << v;
    return out.str();
}

std::string lower_first(std::string s) {
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
}

std::string quoted(const std::string &s) {
    return "\"" + s + "\"";
}

}  // namespace

std::string usage_message(const CLI::ParseError &error, const CLI::App &app) {
    const std::string what = error.what();
    std::smatch m;
    if (dynamic_cast<const CLI::ExtrasError *>(&error)) {
        static const std::regex kExtras(
            R"(^The following arguments? (?:was|were) not expected: (.*)$)");
        if (std::regex_match(what, m, kExtras)) {
            std::istringstream in(m[1].str());
            std::vector<std::string> options, arguments;
            for (std::string word; in >> word;)
                (word.size() > 1 && word[0] == '-' ? options : arguments).push_back(word);
            std::string out;
            const auto list = [](const std::vector<std::string> &v) {
                std::string s;
                for (const auto &w : v) s += (s.empty() ? "" : ", ") + w;
                return s;
            };
            if (!options.empty())
                out = (options.size() > 1 ? "unknown options " : "unknown option ") + list(options);
            if (!arguments.empty())
                out += (out.empty() ? "" : "; and ") +
                       std::string(arguments.size() > 1 ? "unexpected arguments "
                                                        : "unexpected argument ") +
                       list(arguments);
            return out +
                   " (pgmig --help lists the commands and global options, pgmig COMMAND "
                   "--help a command's)";
        }
    }
    if (dynamic_cast<const CLI::ConversionError *>(&error)) {
        static const std::regex kConvert(R"(^Could not convert: (\S+) = (.*)$)");
        if (std::regex_match(what, m, kConvert)) {
            const std::string kind = kind_of_value(type_of(app, m[1].str()));
            return m[1].str() + " must be " + (kind.empty() ? "a valid value" : kind) + ", got " +
                   quoted(m[2].str());
        }
    }
    if (dynamic_cast<const CLI::ValidationError *>(&error)) {
        static const std::regex kRange(R"(^(\S+): Value (.*) not in range (\S+) to (\S+)$)");
        static const std::regex kMember(R"(^(\S+): (.*) not in \{(.*)\}$)");
        if (std::regex_match(what, m, kRange) && plain_number(m[2].str()).empty() &&
            !std::regex_match(m[2].str(), std::regex(R"(^-?[0-9.eE+]+$)"))) {
            // The range check ran before the conversion: the value is not a number at all.
            const std::string kind = kind_of_value(type_of(app, m[1].str()));
            return m[1].str() + " must be " + (kind.empty() ? "a number" : kind) + ", got " +
                   quoted(m[2].str());
        }
        if (std::regex_match(what, m, kRange)) {
            const std::string low = plain_number(m[3].str()), high = plain_number(m[4].str());
            // PositiveNumber's lower bound, the smallest double, prints as 0.000000 (and its
            // upper bound as 309 digits): "greater than 0". pgmig uses no other range with
            // that shape (NonNegativeNumber would print the same).
            std::string bound;
            if (low == "0" && high.empty())
                bound = "greater than 0";
            else if (!low.empty() && !high.empty())
                bound = "between " + low + " and " + high;
            else if (!low.empty())
                bound = "at least " + low;
            else
                bound = "a valid number";
            return m[1].str() + " must be " + bound + ", got " + m[2].str();
        }
        if (std::regex_match(what, m, kMember)) {
            std::string names = m[3].str();
            for (size_t i = 0; (i = names.find(',', i)) != std::string::npos; i += 2)
                names.replace(i, 1, ", ");
            return m[1].str() + " must be one of " + names + ", got " + quoted(m[2].str());
        }
    }
    if (dynamic_cast<const CLI::ArgumentMismatch *>(&error)) {
        static const std::regex kMissing(R"(^(\S+): \d+ required (\S+) missing$)");
        if (std::regex_match(what, m, kMissing)) {
            const std::string kind = kind_of_value(m[2].str());
            return m[1].str() + " needs a value" + (kind.empty() ? "" : " (" + kind + ")");
        }
    }
    if (dynamic_cast<const CLI::ExcludesError *>(&error)) {
        static const std::regex kExcludes(R"(^(\S+) excludes (\S+)$)");
        if (std::regex_match(what, m, kExcludes))
            return m[1].str() + " and " + m[2].str() + " cannot be used together";
    }
    if (dynamic_cast<const CLI::RequiredError *>(&error)) {
        if (what == "A subcommand is required")
            return "a command is required (pgmig --help lists them)";
        static const std::regex kExactlyOne(R"(^Exactly 1 option from \[(.*)\].*$)");
        if (std::regex_match(what, m, kExactlyOne)) return "give exactly one of " + m[1].str();
    }
    return lower_first(what);
}

}  // namespace pgmig
