// AWS credentials and region, found where the AWS CLI and SDKs look for them: the environment,
// then the shared credentials and config files.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgmig::aws {

struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // empty: long-term credentials
};

// No usable credentials. The message says what is missing and how to provide it; it never
// contains a secret access key or session token.
class CredentialsError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// The profile's keys from the text of a shared credentials file ([NAME] sections).
// `file_name` only names the file in error messages. Throws CredentialsError when the profile
// or one of its two keys is missing.
Credentials credentials_from_file_text(std::string_view text, const std::string &profile,
                                       const std::string &file_name);

// The profile's region from the text of a shared config file ([profile NAME] sections, and
// [default] for the default profile); nullopt when it sets none.
std::optional<std::string> region_from_config_text(std::string_view text,
                                                   const std::string &profile);

// What resolution reads from the outside world, so that it can be tested without touching the
// real environment or home directory.
struct CredentialSources {
    // The value of an environment variable; nullopt when unset.
    std::function<std::optional<std::string>(const std::string &name)> env;
    // The contents of a file; nullopt when it does not exist or cannot be read.
    std::function<std::optional<std::string>(const std::string &path)> read_file;
};

// The real environment and file system.
CredentialSources process_credential_sources();

// AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the AWS_PROFILE
// profile (default "default") of the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
// default ~/.aws/credentials). Throws CredentialsError when neither provides them.
Credentials resolve_credentials(const CredentialSources &sources);

// AWS_REGION, else AWS_DEFAULT_REGION, else the profile's region in the shared config file
// (AWS_CONFIG_FILE, default ~/.aws/config), else us-east-1.
std::string resolve_region(const CredentialSources &sources);

inline Credentials load_credentials() {
    return resolve_credentials(process_credential_sources());
}
inline std::string load_region() {
    return resolve_region(process_credential_sources());
}

}  // namespace pgmig::aws
