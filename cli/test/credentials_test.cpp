// pgmig finds AWS credentials where the AWS CLI does, so a user who can run `aws s3 ls` can run
// pgmig too; and when it cannot find them it says what to set, without ever printing a secret.
#include "aws/credentials.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <string>

using namespace pgmig::aws;

namespace {

const std::string kDefaultSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const std::string kDevSecret = "dEvSeCrEt/+0123456789abcdefghijklmnopqrs";

// A credentials file as people write them: comments, blank lines, odd spacing, tabs.
const std::string kCredentialsFile =
    "# written by aws configure\n"
    "[default]\n"
    "aws_access_key_id = AKIADEFAULT\n"
    "aws_secret_access_key = " +
    kDefaultSecret +
    "\n"
    "\n"
    "; a second profile\n"
    "  [ dev ]  \n"
    "AWS_ACCESS_KEY_ID=AKIADEV\n"
    "\taws_secret_access_key\t=\t" +
    kDevSecret +
    "   \n"
    "aws_session_token = FwoGZXIvYXdzEXAMPLETOKEN==  # expires at noon\n"
    "\n"
    "[legacy]\n"
    "aws_access_key_id = AKIALEGACY\n"
    "aws_secret_access_key = legacysecret\n"
    "aws_security_token = OLDTOKEN\n";

// The message of the CredentialsError `call` throws; fails the test if it throws none.
std::string error_of(const std::function<void()> &call) {
    try {
        call();
    } catch (const CredentialsError &error) {
        return error.what();
    }
    ADD_FAILURE() << "expected a CredentialsError";
    return {};
}

TEST(CredentialsFile, gives_the_default_profile) {
    const Credentials c = credentials_from_file_text(kCredentialsFile, "default", "creds");
    EXPECT_EQ(c.access_key_id, "AKIADEFAULT");
    EXPECT_EQ(c.secret_access_key, kDefaultSecret);
    EXPECT_EQ(c.session_token, "");
}

TEST(CredentialsFile, gives_a_named_profile_despite_spacing_case_and_comments) {
    const Credentials c = credentials_from_file_text(kCredentialsFile, "dev", "creds");
    EXPECT_EQ(c.access_key_id, "AKIADEV");
    EXPECT_EQ(c.secret_access_key, kDevSecret);
    EXPECT_EQ(c.session_token, "FwoGZXIvYXdzEXAMPLETOKEN==");
}

TEST(CredentialsFile, accepts_the_old_aws_security_token_name) {
    EXPECT_EQ(credentials_from_file_text(kCredentialsFile, "legacy", "creds").session_token,
              "OLDTOKEN");
}

TEST(CredentialsFile, reads_windows_line_endings) {
    const Credentials c = credentials_from_file_text(
        "[default]\r\naws_access_key_id = AKIACRLF\r\naws_secret_access_key = s3cr3t\r\n",
        "default", "creds");
    EXPECT_EQ(c.access_key_id, "AKIACRLF");
    EXPECT_EQ(c.secret_access_key, "s3cr3t");
}

TEST(CredentialsFile, keeps_the_last_value_of_a_repeated_key) {
    const Credentials c = credentials_from_file_text(
        "[default]\naws_access_key_id = OLD\naws_secret_access_key = s\n"
        "[default]\naws_access_key_id = NEW\n",
        "default", "creds");
    EXPECT_EQ(c.access_key_id, "NEW");
    EXPECT_EQ(c.secret_access_key, "s");
}

TEST(CredentialsFile, skips_nested_settings_under_a_key) {
    const Credentials c = credentials_from_file_text(
        "[default]\ns3 =\n  aws_access_key_id = NESTED\naws_access_key_id = TOP\n"
        "aws_secret_access_key = s\n",
        "default", "creds");
    EXPECT_EQ(c.access_key_id, "TOP");
}

TEST(CredentialsFile, missing_secret_is_named_with_profile_and_file) {
    const std::string message = error_of([] {
        credentials_from_file_text("[ci]\naws_access_key_id = AKIACI\n", "ci",
                                   "/home/u/.aws/credentials");
    });
    EXPECT_NE(message.find("aws_secret_access_key"), std::string::npos) << message;
    EXPECT_NE(message.find("\"ci\""), std::string::npos) << message;
    EXPECT_NE(message.find("/home/u/.aws/credentials"), std::string::npos) << message;
    EXPECT_NE(message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << message;
}

TEST(CredentialsFile, missing_key_id_is_reported_without_the_secret) {
    const std::string message = error_of([] {
        credentials_from_file_text("[ci]\naws_secret_access_key = " + kDevSecret + "\n", "ci",
                                   "creds");
    });
    EXPECT_NE(message.find("aws_access_key_id"), std::string::npos) << message;
    EXPECT_EQ(message.find(kDevSecret), std::string::npos) << message;
    EXPECT_EQ(message.find("dEvSeCrEt"), std::string::npos) << message;
}

TEST(CredentialsFile, a_line_missing_its_equals_sign_is_not_quoted_back) {
    // A typo on the secret line must not put the secret in a log.
    const std::string message = error_of([] {
        credentials_from_file_text(
            "[default]\naws_access_key_id = AKIA\naws_secret_access_key " + kDevSecret + "\n",
            "default", "creds");
    });
    EXPECT_NE(message.find("aws_secret_access_key"), std::string::npos) << message;
    EXPECT_EQ(message.find("dEvSeCrEt"), std::string::npos) << message;
}

TEST(CredentialsFile, missing_profile_says_how_to_choose_or_add_one) {
    const std::string message =
        error_of([] { credentials_from_file_text(kCredentialsFile, "prod", "creds"); });
    EXPECT_NE(message.find("\"prod\""), std::string::npos) << message;
    EXPECT_NE(message.find("[prod]"), std::string::npos) << message;
    EXPECT_NE(message.find("AWS_PROFILE"), std::string::npos) << message;
    EXPECT_EQ(message.find(kDefaultSecret), std::string::npos) << message;
    EXPECT_EQ(message.find(kDevSecret), std::string::npos) << message;
}

TEST(CredentialsFile, points_out_a_config_style_section_name) {
    const std::string message = error_of([] {
        credentials_from_file_text(
            "[profile dev]\naws_access_key_id = A\naws_secret_access_key = " + kDevSecret + "\n",
            "dev", "creds");
    });
    EXPECT_NE(message.find("[profile dev]"), std::string::npos) << message;
    EXPECT_EQ(message.find("dEvSeCrEt"), std::string::npos) << message;
}

// --- config file ----------------------------------------------------------------------------

const std::string kConfigFile =
    "[default]\n"
    "region = eu-west-1\n"
    "output = json\n"
    "\n"
    "[profile dev]\n"
    "region=ap-southeast-2 ; Sydney\n"
    "s3 =\n"
    "    region = nested-should-not-count\n"
    "\n"
    "[profile   spaced]\n"
    "region = us-west-2\n"
    "\n"
    "[plain]\n"  // not a profile section in a config file
    "region = sa-east-1\n"
    "\n"
    "[profile noregion]\n"
    "output = text\n";

TEST(ConfigFile, gives_the_region_of_the_default_section) {
    EXPECT_EQ(region_from_config_text(kConfigFile, "default"), "eu-west-1");
}

TEST(ConfigFile, gives_the_region_of_a_profile_section) {
    EXPECT_EQ(region_from_config_text(kConfigFile, "dev"), "ap-southeast-2");
    EXPECT_EQ(region_from_config_text(kConfigFile, "spaced"), "us-west-2");
}

TEST(ConfigFile, ignores_sections_without_the_profile_prefix) {
    EXPECT_EQ(region_from_config_text(kConfigFile, "plain"), std::nullopt);
}

TEST(ConfigFile, gives_nothing_for_a_profile_without_region_or_unknown) {
    EXPECT_EQ(region_from_config_text(kConfigFile, "noregion"), std::nullopt);
    EXPECT_EQ(region_from_config_text(kConfigFile, "nobody"), std::nullopt);
    EXPECT_EQ(region_from_config_text("", "default"), std::nullopt);
}

TEST(ConfigFile, accepts_profile_default_but_prefers_plain_default) {
    EXPECT_EQ(region_from_config_text("[profile default]\nregion = us-east-2\n", "default"),
              "us-east-2");
    EXPECT_EQ(
        region_from_config_text(
            "[default]\nregion = eu-north-1\n[profile default]\nregion = us-east-2\n", "default"),
        "eu-north-1");
}

// --- resolution from the environment and the files -----------------------------------------

struct FakeWorld {
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> files;

    CredentialSources sources() const {
        CredentialSources s;
        s.env = [this](const std::string &name) -> std::optional<std::string> {
            const auto it = env.find(name);
            if (it == env.end()) return std::nullopt;
            return it->second;
        };
        s.read_file = [this](const std::string &path) -> std::optional<std::string> {
            const auto it = files.find(path);
            if (it == files.end()) return std::nullopt;
            return it->second;
        };
        return s;
    }
};

TEST(ResolveCredentials, prefers_the_environment_over_the_file) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"},
                 {"AWS_ACCESS_KEY_ID", "AKIAENV"},
                 {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                 {"AWS_SESSION_TOKEN", "envtoken"}};
    world.files = {{"/home/u/.aws/credentials", kCredentialsFile}};
    const Credentials c = resolve_credentials(world.sources());
    EXPECT_EQ(c.access_key_id, "AKIAENV");
    EXPECT_EQ(c.secret_access_key, "envsecret");
    EXPECT_EQ(c.session_token, "envtoken");
}

TEST(ResolveCredentials, reads_the_default_profile_from_home) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}};
    world.files = {{"/home/u/.aws/credentials", kCredentialsFile}};
    EXPECT_EQ(resolve_credentials(world.sources()).access_key_id, "AKIADEFAULT");
}

TEST(ResolveCredentials, treats_empty_variables_as_unset) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"},
                 {"AWS_ACCESS_KEY_ID", ""},
                 {"AWS_SECRET_ACCESS_KEY", ""},
                 {"AWS_PROFILE", ""}};
    world.files = {{"/home/u/.aws/credentials", kCredentialsFile}};
    EXPECT_EQ(resolve_credentials(world.sources()).access_key_id, "AKIADEFAULT");
}

TEST(ResolveCredentials, uses_aws_profile_and_aws_shared_credentials_file) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"},
                 {"AWS_PROFILE", "dev"},
                 {"AWS_SHARED_CREDENTIALS_FILE", "~/work/creds"}};
    world.files = {{"/home/u/work/creds", kCredentialsFile}};
    const Credentials c = resolve_credentials(world.sources());
    EXPECT_EQ(c.access_key_id, "AKIADEV");
    EXPECT_EQ(c.secret_access_key, kDevSecret);
}

TEST(ResolveCredentials, half_a_key_pair_in_the_environment_is_an_error_without_the_secret) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}, {"AWS_SECRET_ACCESS_KEY", kDevSecret}};
    world.files = {{"/home/u/.aws/credentials", kCredentialsFile}};
    const std::string message = error_of([&] { resolve_credentials(world.sources()); });
    EXPECT_NE(message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << message;
    EXPECT_EQ(message.find("dEvSeCrEt"), std::string::npos) << message;

    world.env = {{"HOME", "/home/u"}, {"AWS_ACCESS_KEY_ID", "AKIAENV"}};
    const std::string other = error_of([&] { resolve_credentials(world.sources()); });
    EXPECT_NE(other.find("AWS_SECRET_ACCESS_KEY is not"), std::string::npos) << other;
}

TEST(ResolveCredentials, no_credentials_anywhere_names_the_file_and_the_variables) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}};
    const std::string message = error_of([&] { resolve_credentials(world.sources()); });
    EXPECT_NE(message.find("/home/u/.aws/credentials"), std::string::npos) << message;
    EXPECT_NE(message.find("AWS_ACCESS_KEY_ID"), std::string::npos) << message;
    EXPECT_NE(message.find("AWS_SHARED_CREDENTIALS_FILE"), std::string::npos) << message;
}

TEST(ResolveCredentials, without_home_asks_for_the_variables) {
    FakeWorld world;
    const std::string message = error_of([&] { resolve_credentials(world.sources()); });
    EXPECT_NE(message.find("HOME"), std::string::npos) << message;
    EXPECT_NE(message.find("AWS_SHARED_CREDENTIALS_FILE"), std::string::npos) << message;
}

TEST(ResolveCredentials, unknown_aws_profile_is_an_error_without_any_secret) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}, {"AWS_PROFILE", "prod"}};
    world.files = {{"/home/u/.aws/credentials", kCredentialsFile}};
    const std::string message = error_of([&] { resolve_credentials(world.sources()); });
    EXPECT_NE(message.find("\"prod\""), std::string::npos) << message;
    EXPECT_EQ(message.find(kDefaultSecret), std::string::npos) << message;
    EXPECT_EQ(message.find(kDevSecret), std::string::npos) << message;
}

TEST(ResolveRegion, prefers_aws_region_then_aws_default_region) {
    FakeWorld world;
    world.env = {
        {"HOME", "/home/u"}, {"AWS_REGION", "eu-central-1"}, {"AWS_DEFAULT_REGION", "us-west-1"}};
    world.files = {{"/home/u/.aws/config", kConfigFile}};
    EXPECT_EQ(resolve_region(world.sources()), "eu-central-1");
    world.env.erase("AWS_REGION");
    EXPECT_EQ(resolve_region(world.sources()), "us-west-1");
}

TEST(ResolveRegion, falls_back_to_the_profile_in_the_config_file) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}, {"AWS_PROFILE", "dev"}};
    world.files = {{"/home/u/.aws/config", kConfigFile}};
    EXPECT_EQ(resolve_region(world.sources()), "ap-southeast-2");
    world.env.erase("AWS_PROFILE");
    EXPECT_EQ(resolve_region(world.sources()), "eu-west-1");
}

TEST(ResolveRegion, honours_aws_config_file) {
    FakeWorld world;
    world.env = {{"HOME", "/home/u"}, {"AWS_CONFIG_FILE", "/etc/aws.cfg"}};
    world.files = {{"/home/u/.aws/config", kConfigFile},
                   {"/etc/aws.cfg", "[default]\nregion = ca-central-1\n"}};
    EXPECT_EQ(resolve_region(world.sources()), "ca-central-1");
}

TEST(ResolveRegion, is_us_east_1_when_nothing_says_otherwise) {
    FakeWorld world;
    EXPECT_EQ(resolve_region(world.sources()), "us-east-1");
    world.env = {{"HOME", "/home/u"}, {"AWS_PROFILE", "noregion"}};
    world.files = {{"/home/u/.aws/config", kConfigFile}};
    EXPECT_EQ(resolve_region(world.sources()), "us-east-1");
}

}  // namespace
