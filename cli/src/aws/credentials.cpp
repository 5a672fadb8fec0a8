#include "aws/credentials.hpp"

#include "aws/ascii.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace pgmig::aws {

namespace {

constexpr const char *kDefaultRegion = "us-east-1";

// Keys of one INI section (lowercased) -> values.
using IniSection = std::map<std::string, std::string>;
// Section name as written between the brackets -> its keys; a repeated section adds to the
// first, and a repeated key keeps the last value, as the AWS CLI does.
using IniFile = std::map<std::string, IniSection>;

// "us-west-2  # prod" -> "us-west-2". Only a # or ; after a blank starts a comment: keys and
// tokens hold no blanks, so this never cuts a real value.
std::string_view strip_inline_comment(std::string_view value) {
    for (size_t i = 1; i < value.size(); ++i)
        if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1]))
            return trim(value.substr(0, i));
    return value;
}

// The AWS flavour of INI: [section] headers, key = value lines, # and ; comments. Indented
// lines under a key with an empty value are that key's nested settings ("s3 =" then
// "  addressing_style = path") and are skipped. Lines that fit none of these are ignored
// rather than quoted in an error, since they may hold a secret.
IniFile parse_ini(std::string_view text) {
    IniFile file;
    IniSection *section = nullptr;
    bool in_nested_block = false;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view raw = text.substr(start, end - start);
        start = end + 1;
        const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            const size_t close = line.find(']');
            section = close == std::string_view::npos
                          ? nullptr
                          : &file[std::string(trim(line.substr(1, close - 1)))];
            in_nested_block = false;
            continue;
        }
        if (section == nullptr || (indented && in_nested_block)) continue;
        const size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        const std::string_view value = strip_inline_comment(trim(line.substr(eq + 1)));
        (*section)[lowercase(trim(line.substr(0, eq)))] = std::string(value);
        in_nested_block = value.empty();
    }
    return file;
}

std::string value_or_empty(const IniSection &section, const std::string &key) {
    const auto it = section.find(key);
    return it == section.end() ? std::string() : it->second;
}

// The profile a config-file section belongs to: "profile dev" -> "dev", "default" ->
// "default"; empty for sections that name no profile (such as "sso-session x").
std::string config_section_profile(const std::string &section) {
    if (section == "default") return section;
    const std::string_view prefix = "profile";
    if (section.size() > prefix.size() && section.compare(0, prefix.size(), prefix) == 0 &&
        is_blank(section[prefix.size()]))
        return std::string(trim(std::string_view(section).substr(prefix.size())));
    return {};
}

std::optional<std::string> nonempty_env(const CredentialSources &sources, const char *name) {
    auto value = sources.env(name);
    if (value && value->empty()) return std::nullopt;
    return value;
}

// "~/x" -> "$HOME/x", as the AWS CLI expands the file variables.
std::optional<std::string> expand_home(const CredentialSources &sources, const std::string &path) {
    if (path.compare(0, 2, "~/") != 0) return path;
    const auto home = nonempty_env(sources, "HOME");
    if (!home) return std::nullopt;
    return *home + path.substr(1);
}

// The file named by `variable`, else ~/`default_relative`; nullopt when HOME is needed but
// unset.
std::optional<std::string> aws_file_path(const CredentialSources &sources, const char *variable,
                                         const char *default_relative) {
    if (const auto path = nonempty_env(sources, variable)) return expand_home(sources, *path);
    const auto home = nonempty_env(sources, "HOME");
    if (!home) return std::nullopt;
    return *home + "/" + default_relative;
}

std::string profile_name(const CredentialSources &sources) {
    return nonempty_env(sources, "AWS_PROFILE").value_or("default");
}

}  // namespace

Credentials credentials_from_file_text(std::string_view text, const std::string &profile,
                                       const std::string &file_name) {
    const IniFile ini = parse_ini(text);
    const auto it = ini.find(profile);
    if (it == ini.end()) {
        std::string message = "AWS profile \"" + profile + "\" is not in " + file_name + ".";
        if (ini.count("profile " + profile) != 0)
            message += " It is written [profile " + profile +
                       "], but the credentials file names "
                       "sections [" +
                       profile + "]; only the config file uses \"profile \".";
        message += " Add a [" + profile +
                   "] section with aws_access_key_id and aws_secret_access_key, pick another "
                   "profile with AWS_PROFILE, or set AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY. (pgmig reads static keys only: no SSO, role or "
                   "credential_process profiles.)";
        throw CredentialsError(message);
    }
    const IniSection &section = it->second;
    Credentials credentials;
    credentials.access_key_id = value_or_empty(section, "aws_access_key_id");
    credentials.secret_access_key = value_or_empty(section, "aws_secret_access_key");
    credentials.session_token = value_or_empty(section, "aws_session_token");
    if (credentials.session_token.empty())  // the name older tools wrote
        credentials.session_token = value_or_empty(section, "aws_security_token");

    std::string missing;
    if (credentials.access_key_id.empty()) missing = "aws_access_key_id";
    if (credentials.secret_access_key.empty())
        missing += (missing.empty() ? "" : " and ") + std::string("aws_secret_access_key");
    if (!missing.empty())
        throw CredentialsError("AWS profile \"" + profile + "\" in " + file_name + " has no " +
                               missing + ". Add it to the [" + profile +
                               "] section (\"key = value\", one per line), or set "
                               "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.");
    return credentials;
}

std::optional<std::string> region_from_config_text(std::string_view text,
                                                   const std::string &profile) {
    std::optional<std::string> region;
    for (const auto &[name, section] : parse_ini(text)) {
        if (config_section_profile(name) != profile) continue;
        const std::string value = value_or_empty(section, "region");
        // [default] wins over [profile default], which the CLI also accepts.
        if (!value.empty() && (!region || name == "default")) region = value;
    }
    return region;
}

CredentialSources process_credential_sources() {
    CredentialSources sources;
    sources.env = [](const std::string &name) -> std::optional<std::string> {
        const char *value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
    sources.read_file = [](const std::string &path) -> std::optional<std::string> {
        std::error_code error;
        if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
        std::ifstream in(path, std::ios::binary);
        if (!in) return std::nullopt;
        std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        if (in.bad()) return std::nullopt;
        return text;
    };
    return sources;
}

Credentials resolve_credentials(const CredentialSources &sources) {
    const auto id = nonempty_env(sources, "AWS_ACCESS_KEY_ID");
    const auto secret = nonempty_env(sources, "AWS_SECRET_ACCESS_KEY");
    if (id && secret)
        return Credentials{*id, *secret, nonempty_env(sources, "AWS_SESSION_TOKEN").value_or("")};
    // Half a key pair is a mistake; falling back to the file would sign as someone else.
    if (id)
        throw CredentialsError(
            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not. Set both, or unset "
            "AWS_ACCESS_KEY_ID to use the shared credentials file.");
    if (secret)
        throw CredentialsError(
            "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not. Set both, or unset "
            "AWS_SECRET_ACCESS_KEY to use the shared credentials file.");

    const auto path = aws_file_path(sources, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    if (!path)
        throw CredentialsError(
            "No AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and "
            "HOME is not set to find ~/.aws/credentials. Set the two variables, or point "
            "AWS_SHARED_CREDENTIALS_FILE at a credentials file.");
    const auto text = sources.read_file(*path);
    if (!text)
        throw CredentialsError(
            "No AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "are not set, and " +
            *path +
            " does not exist or cannot be read. Set the two variables, "
            "create the file (`aws configure` does), or point "
            "AWS_SHARED_CREDENTIALS_FILE at one.");
    return credentials_from_file_text(*text, profile_name(sources), *path);
}

std::string resolve_region(const CredentialSources &sources) {
    if (auto region = nonempty_env(sources, "AWS_REGION")) return *region;
    if (auto region = nonempty_env(sources, "AWS_DEFAULT_REGION")) return *region;
    if (const auto path = aws_file_path(sources, "AWS_CONFIG_FILE", ".aws/config"))
        if (const auto text = sources.read_file(*path))
            if (auto region = region_from_config_text(*text, profile_name(sources))) return *region;
    return kDefaultRegion;
}

}  // namespace pgmig::aws
