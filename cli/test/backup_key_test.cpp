// A backup is locked with a 256-bit key from a key file or a passphrase. The key file may be
// written the way people write keys (raw, hex, base64), a typo or a weak key is refused without
// echoing it, and a restore can tell "wrong key" apart from "damaged manifest".
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <string>
#include <tuple>

#include "archive/backup_key.hpp"

namespace {

using pgmig::archive::ArchiveError;
using pgmig::archive::BackupKey;
using pgmig::archive::KdfParams;

// 32 random bytes that are certainly not text (the first is NUL).
std::string random_raw_key() {
    std::string raw(32, '\0');
    RAND_bytes(reinterpret_cast<unsigned char *>(raw.data()), 32);
    raw[0] = '\0';
    return raw;
}

std::string to_hex(std::string_view bytes) {
    return pgmig::archive::hex_encode(reinterpret_cast<const unsigned char *>(bytes.data()),
                                      bytes.size());
}

// Independent of the code under test: OpenSSL's encoder.
std::string to_base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(bytes.data()),
                                  static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

std::string key_bytes(const BackupKey &key) {
    return std::string(reinterpret_cast<const char *>(key.bytes.data()), key.bytes.size());
}

std::string to_upper(std::string s) {
    for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The message of the ArchiveError `f` throws, or a marker when it throws nothing.
template <typename F>
std::string error_of(F f) {
    try {
        f();
    } catch (const ArchiveError &e) {
        return e.what();
    }
    return "<no ArchiveError>";
}

KdfParams fast_params(std::string salt_hex) {
    KdfParams params;
    params.n = 1024;
    params.salt_hex = std::move(salt_hex);
    return params;
}

TEST(KeyFromFileContents, accepts_32_raw_bytes) {
    const std::string raw = random_raw_key();
    EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(raw)), raw);
}

TEST(KeyFromFileContents, accepts_64_hex_digits_with_or_without_a_trailing_newline) {
    const std::string raw = random_raw_key();
    const std::string hex = to_hex(raw);
    for (const std::string &contents : {hex, hex + "\n", hex + "\r\n", hex + "  \n\n", hex + "\t",
                                        to_upper(hex), to_upper(hex) + "\n"})
        EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(contents)), raw)
            << "contents \"" << contents << "\"";
}

TEST(KeyFromFileContents, accepts_base64_of_32_bytes_with_or_without_a_trailing_newline) {
    const std::string raw = random_raw_key();
    const std::string b64 = to_base64(raw);
    ASSERT_EQ(b64.size(), 44u);
    for (const std::string &contents : {b64, b64 + "\n", b64 + "\r\n"})
        EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(contents)), raw)
            << "contents \"" << contents << "\"";
}

TEST(KeyFromFileContents, reads_a_key_of_all_zero_and_all_ff_bytes_in_every_spelling) {
    for (char fill : {'\0', '\xff'}) {
        const std::string raw(32, fill);
        EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(raw)), raw);
        EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(to_hex(raw))), raw);
        EXPECT_EQ(key_bytes(pgmig::archive::key_from_file_contents(to_base64(raw))), raw);
    }
}

TEST(KeyFromFileContents, refuses_contents_of_the_wrong_size_or_alphabet) {
    const std::string raw = random_raw_key();
    const std::string hex = to_hex(raw);
    const std::string b64 = to_base64(raw);
    const std::string rejected[] = {
        "",
        raw.substr(0, 31),
        raw + "x",
        raw + "\n",               // raw keys are exactly 32 bytes
        hex.substr(0, 63),        // one hex digit short
        hex + "0",                // one too many
        " " + hex,                // leading whitespace
        hex.substr(0, 63) + "g",  // not a hex digit
        hex.substr(0, 32) + " " + hex.substr(32),
        b64.substr(0, 43),  // padding missing
        b64 + "\n\n",       // more than one newline
        b64.substr(0, 10) + "*" + b64.substr(11),
        to_base64(raw + "x"),          // base64 of 33 bytes
        to_base64(raw.substr(0, 31)),  // base64 of 31 bytes
        std::string(200, 'A'),
    };
    for (const std::string &contents : rejected)
        EXPECT_NE(error_of([&] { pgmig::archive::key_from_file_contents(contents); }),
                  "<no ArchiveError>")
            << "contents of " << contents.size() << " bytes";
}

TEST(KeyFromFileContents, refuses_base64_whose_unused_bits_are_not_zero) {
    // 'B' carries the two unused low bits as 01: decodes to the same bytes as 'A' would, so a
    // lenient decoder would give one key two spellings.
    const std::string b64 = to_base64(std::string(32, '\0'));
    ASSERT_EQ(b64[42], 'A');
    std::string noncanonical = b64;
    noncanonical[42] = 'B';
    EXPECT_NE(error_of([&] { pgmig::archive::key_from_file_contents(noncanonical); }),
              "<no ArchiveError>");
}

TEST(KeyFromFileContents, refuses_32_characters_of_text_as_a_raw_key) {
    // 32 hex digits (a 128-bit key) or a typed passphrase must not become a "raw" 256-bit key.
    const std::string half_hex = to_hex(random_raw_key().substr(0, 16));
    ASSERT_EQ(half_hex.size(), 32u);
    for (const std::string &contents :
         {half_hex, std::string("correct horse battery staple 123"), std::string(31, 'k') + "\n"}) {
        ASSERT_EQ(contents.size(), 32u);
        const std::string error =
            error_of([&] { pgmig::archive::key_from_file_contents(contents); });
        EXPECT_NE(error.find("text"), std::string::npos) << error;
        EXPECT_EQ(error.find(contents), std::string::npos) << "the key file was echoed";
    }
}

TEST(KeyFromFileContents, error_names_the_accepted_formats_and_never_echoes_the_contents) {
    const std::string secret = "my-super-secret-passphrase-do-not-print";
    const std::string error = error_of([&] { pgmig::archive::key_from_file_contents(secret); });
    EXPECT_NE(error.find("32 raw bytes"), std::string::npos) << error;
    EXPECT_NE(error.find("64 hex digits"), std::string::npos) << error;
    EXPECT_NE(error.find("base64"), std::string::npos) << error;
    EXPECT_EQ(error.find("secret"), std::string::npos) << error;
    EXPECT_EQ(error.find("passphrase-do-not"), std::string::npos) << error;
}

TEST(KeyFromPassphrase, matches_the_rfc_7914_scrypt_test_vector) {
    // RFC 7914 section 12: scrypt("password", "NaCl", N=1024, r=8, p=16, dkLen=64). PBKDF2
    // output blocks are independent, so a 32-byte derivation is the first half.
    KdfParams params;
    params.n = 1024;
    params.r = 8;
    params.p = 16;
    params.salt_hex = to_hex("NaCl");
    const BackupKey key = pgmig::archive::key_from_passphrase("password", params);
    EXPECT_EQ(to_hex(key_bytes(key)),
              "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162");
}

TEST(KeyFromPassphrase, derives_with_the_default_parameters_which_need_32_mib) {
    KdfParams params = pgmig::archive::new_kdf_params();
    ASSERT_EQ(params.n, uint64_t{1} << 15);
    const BackupKey a = pgmig::archive::key_from_passphrase("backup passphrase", params);
    const BackupKey b = pgmig::archive::key_from_passphrase("backup passphrase", params);
    EXPECT_EQ(key_bytes(a), key_bytes(b));
}

TEST(KeyFromPassphrase, gives_a_different_key_for_another_salt_or_passphrase) {
    const std::string base =
        key_bytes(pgmig::archive::key_from_passphrase("pw", fast_params("00112233")));
    EXPECT_NE(key_bytes(pgmig::archive::key_from_passphrase("pw", fast_params("00112234"))), base);
    EXPECT_NE(key_bytes(pgmig::archive::key_from_passphrase("pW", fast_params("00112233"))), base);
    EXPECT_EQ(key_bytes(pgmig::archive::key_from_passphrase("pw", fast_params("00112233"))), base);
}

TEST(KeyFromPassphrase, refuses_an_empty_passphrase_and_malformed_parameters) {
    const auto refused = [](std::string_view passphrase, const KdfParams &params) {
        return error_of([&] { pgmig::archive::key_from_passphrase(passphrase, params); });
    };
    EXPECT_NE(refused("", fast_params("0011")).find("empty"), std::string::npos);

    KdfParams argon = fast_params("0011");
    argon.algorithm = "argon2id";
    EXPECT_NE(refused("pw", argon).find("argon2id"), std::string::npos);

    for (const char *salt : {"", "001", "zz11"})
        EXPECT_NE(refused("pw", fast_params(salt)).find("salt"), std::string::npos) << salt;

    for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, uint64_t{3}}) {
        KdfParams params = fast_params("0011");
        params.n = n;
        EXPECT_NE(refused("pw", params).find("power of two"), std::string::npos) << n;
    }
    KdfParams zero_r = fast_params("0011");
    zero_r.r = 0;
    EXPECT_NE(refused("pw", zero_r), "<no ArchiveError>");
    KdfParams zero_p = fast_params("0011");
    zero_p.p = 0;
    EXPECT_NE(refused("pw", zero_p), "<no ArchiveError>");
}

TEST(KeyFromPassphrase, refuses_parameters_from_a_hostile_manifest_that_need_too_much_memory) {
    for (auto [n, r, p] : {std::tuple<uint64_t, uint32_t, uint32_t>{uint64_t{1} << 40, 8, 1},
                           {uint64_t{1} << 21, 8, 1},  // 2 GiB
                           {1024, 0xffffffffu, 1},
                           {1024, 8, 0xffffffffu}}) {
        KdfParams params = fast_params("0011");
        params.n = n;
        params.r = r;
        params.p = p;
        const std::string error =
            error_of([&] { pgmig::archive::key_from_passphrase("pw", params); });
        EXPECT_NE(error.find("memory limit"), std::string::npos) << error;
    }
}

TEST(NewKdfParams, uses_scrypt_defaults_and_a_fresh_16_byte_salt_each_time) {
    const KdfParams a = pgmig::archive::new_kdf_params();
    const KdfParams b = pgmig::archive::new_kdf_params();
    EXPECT_EQ(a.algorithm, "scrypt");
    EXPECT_EQ(a.n, uint64_t{1} << 15);
    EXPECT_EQ(a.r, 8u);
    EXPECT_EQ(a.p, 1u);
    EXPECT_EQ(a.salt_hex.size(), 32u);
    EXPECT_EQ(a.salt_hex.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(a.salt_hex, b.salt_hex);
}

TEST(KeyId, is_16_hex_digits_stable_for_a_key_and_different_for_another_key) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    const BackupKey other = pgmig::archive::key_from_file_contents(random_raw_key());
    const std::string id = pgmig::archive::key_id(key);
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(pgmig::archive::key_id(key), id);
    EXPECT_NE(pgmig::archive::key_id(other), id);
}

TEST(KeyId, does_not_reveal_the_key) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    const std::string key_hex = to_hex(key_bytes(key));
    EXPECT_EQ(key_hex.find(pgmig::archive::key_id(key)), std::string::npos);
}

TEST(KeyId, is_a_fixed_function_of_the_key_so_other_tools_agree) {
    // The definition in docs/archive-object-format.md: the first 8 bytes of
    // HMAC-SHA256(key, "pgmig key id"), computed here straight with OpenSSL.
    const BackupKey zero{};
    unsigned char mac[32];
    unsigned int size = 0;
    HMAC(EVP_sha256(), zero.bytes.data(), 32,
         reinterpret_cast<const unsigned char *>("pgmig key id"), 12, mac, &size);
    EXPECT_EQ(pgmig::archive::key_id(zero), pgmig::archive::hex_encode(mac, 8));
}

TEST(ManifestMac, verifies_the_manifest_it_was_computed_for) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    const std::string body = R"({"objects":[{"name":"public.users","sha256":"ab"}]})";
    const std::string mac = pgmig::archive::manifest_mac(key, body);
    EXPECT_EQ(mac.size(), 64u);
    EXPECT_TRUE(pgmig::archive::manifest_mac_matches(key, body, mac));
}

TEST(ManifestMac, detects_a_change_of_any_single_byte) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    const std::string body = R"({"objects":[{"name":"public.users","rows":42}]})";
    const std::string mac = pgmig::archive::manifest_mac(key, body);
    for (size_t i = 0; i < body.size(); ++i) {
        std::string changed = body;
        changed[i] = static_cast<char>(changed[i] ^ 0x01);
        EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, changed, mac)) << "byte " << i;
    }
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body + " ", mac));
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body.substr(1), mac));
}

TEST(ManifestMac, does_not_verify_under_another_key_or_with_a_damaged_mac) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    const BackupKey other = pgmig::archive::key_from_file_contents(random_raw_key());
    const std::string body = "manifest";
    const std::string mac = pgmig::archive::manifest_mac(key, body);
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(other, body, mac));
    std::string damaged = mac;
    damaged[10] = damaged[10] == '0' ? '1' : '0';
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body, damaged));
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body, ""));
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body, mac.substr(0, 63)));
    EXPECT_FALSE(pgmig::archive::manifest_mac_matches(key, body, mac + "0"));
}

TEST(ManifestMac, is_keyed_by_a_subkey_not_the_key_id_or_the_key_itself) {
    const BackupKey key = pgmig::archive::key_from_file_contents(random_raw_key());
    unsigned char direct[32];
    unsigned int size = 0;
    HMAC(EVP_sha256(), key.bytes.data(), 32, reinterpret_cast<const unsigned char *>("m"), 1,
         direct, &size);
    EXPECT_NE(pgmig::archive::manifest_mac(key, "m"), pgmig::archive::hex_encode(direct, 32));
    EXPECT_NE(pgmig::archive::derive_subkey(key, "pgmig manifest v1"),
              pgmig::archive::derive_subkey(key, "pgmig key id"));
}

}  // namespace
