#include "archive/backup_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <vector>

namespace pgmig::archive {

namespace {

constexpr size_t kKeySize = 32;

// scrypt's memory is 128 * r * (N + p + 2) bytes; a manifest asking for more is refused
// rather than letting a hostile file exhaust the machine.
constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;

constexpr const char *kAcceptedKeyFormats =
    "a key file must hold exactly 32 raw bytes, 64 hex digits (optionally followed by a "
    "newline), or the base64 of 32 bytes (44 characters, optionally followed by a newline)";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes hex digits of either case; false on an odd length or a non-hex character.
bool hex_decode(std::string_view hex, std::vector<unsigned char> &out) {
    if (hex.size() % 2 != 0) return false;
    out.clear();
    out.reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<unsigned char>(hi << 4 | lo));
    }
    return true;
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Strict decoding of exactly 32 bytes: 43 alphabet characters and one '=', with the two unused
// bits zero, so each key has one spelling and stray characters are not silently skipped.
bool base64_decode_key(std::string_view text, BackupKey &key) {
    if (text.size() != 44 || text[43] != '=') return false;
    uint32_t bits = 0;
    int nbits = 0;
    size_t out = 0;
    for (size_t i = 0; i < 43; ++i) {
        const int v = base64_value(text[i]);
        if (v < 0) return false;
        bits = bits << 6 | static_cast<uint32_t>(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            key.bytes[out++] = static_cast<unsigned char>(bits >> nbits);
            bits &= (1u << nbits) - 1;
        }
    }
    return out == kKeySize && bits == 0;
}

bool is_text_byte(unsigned char c) {
    return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
}

std::string_view strip_trailing_whitespace(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                          s.back() == '\r' || s.back() == '\v' || s.back() == '\f'))
        s.remove_suffix(1);
    return s;
}

std::string_view strip_one_newline(std::string_view s) {
    if (s.size() >= 2 && s.substr(s.size() - 2) == "\r\n") return s.substr(0, s.size() - 2);
    if (!s.empty() && s.back() == '\n') return s.substr(0, s.size() - 1);
    return s;
}

std::array<unsigned char, 32> hmac_sha256(const unsigned char *key, size_t key_size,
                                          std::string_view message) {
    std::array<unsigned char, 32> mac{};
    unsigned int mac_size = 0;
    if (HMAC(EVP_sha256(), key, static_cast<int>(key_size),
             reinterpret_cast<const unsigned char *>(message.data()), message.size(), mac.data(),
             &mac_size) == nullptr ||
        mac_size != mac.size())
        throw ArchiveError("HMAC-SHA256 failed in OpenSSL");
    return mac;
}

}  // namespace

std::string hex_encode(const unsigned char *data, size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string hex(size * 2, '0');
    for (size_t i = 0; i < size; ++i) {
        hex[2 * i] = digits[data[i] >> 4];
        hex[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return hex;
}

BackupKey key_from_file_contents(std::string_view contents) {
    BackupKey key{};
    if (contents.size() == kKeySize) {
        // 32 random bytes are all printable with probability ~1e-13, so text here is a typed
        // passphrase or a 128-bit hex key, both far weaker than the 256 bits a key must have.
        bool all_text = true;
        for (char c : contents) all_text = all_text && is_text_byte(static_cast<unsigned char>(c));
        if (all_text)
            throw ArchiveError(
                "key file holds 32 characters of text, not 32 random bytes; " +
                std::string(kAcceptedKeyFormats) +
                " (generate one with: openssl rand -hex 32), or use a passphrase instead");
        std::copy(contents.begin(), contents.end(), key.bytes.begin());
        return key;
    }
    std::vector<unsigned char> decoded;
    const std::string_view hex = strip_trailing_whitespace(contents);
    if (hex.size() == 2 * kKeySize && hex_decode(hex, decoded)) {
        std::copy(decoded.begin(), decoded.end(), key.bytes.begin());
        OPENSSL_cleanse(decoded.data(), decoded.size());
        return key;
    }
    if (base64_decode_key(strip_one_newline(contents), key)) return key;
    OPENSSL_cleanse(key.bytes.data(), key.bytes.size());
    throw ArchiveError("key file is not in an accepted format (" + std::to_string(contents.size()) +
                       " bytes): " + kAcceptedKeyFormats +
                       "; generate one with: openssl rand -hex 32");
}

KdfParams new_kdf_params() {
    KdfParams params;
    unsigned char salt[16];
    if (RAND_bytes(salt, sizeof salt) != 1)
        throw ArchiveError("could not generate a random salt (OpenSSL RAND_bytes failed)");
    params.salt_hex = hex_encode(salt, sizeof salt);
    return params;
}

BackupKey key_from_passphrase(std::string_view passphrase, const KdfParams &params) {
    if (passphrase.empty()) throw ArchiveError("the passphrase is empty");
    if (params.algorithm != "scrypt")
        throw ArchiveError("unsupported key derivation algorithm \"" + params.algorithm +
                           "\" (pgmig supports scrypt)");
    std::vector<unsigned char> salt;
    if (params.salt_hex.empty() || !hex_decode(params.salt_hex, salt))
        throw ArchiveError("the scrypt salt must be a non-empty, even-length hex string");
    const uint64_t n = params.n, r = params.r, p = params.p;
    if (n < 2 || (n & (n - 1)) != 0)
        throw ArchiveError("scrypt N must be a power of two above 1, not " + std::to_string(n));
    if (r == 0 || p == 0) throw ArchiveError("scrypt r and p must be at least 1");
    // Bounded first so the memory product below cannot overflow.
    const bool absurd = n > (uint64_t{1} << 30) || r > (1u << 20) || p > (1u << 20);
    const uint64_t memory = absurd ? UINT64_MAX : 128 * r * (n + 2) + 128 * r * p;
    if (memory > kMaxScryptMemory)
        throw ArchiveError("scrypt parameters N=" + std::to_string(n) + ", r=" + std::to_string(r) +
                           ", p=" + std::to_string(p) +
                           " need more than the 1 GiB memory limit; the manifest may be damaged");
    BackupKey key{};
    if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), salt.data(), salt.size(), n, r, p,
                       memory, key.bytes.data(), key.bytes.size()) != 1)
        throw ArchiveError("scrypt key derivation failed in OpenSSL (N=" + std::to_string(n) +
                           ", r=" + std::to_string(r) + ", p=" + std::to_string(p) + ")");
    return key;
}

std::array<unsigned char, 32> derive_subkey(const BackupKey &key, std::string_view label) {
    return hmac_sha256(key.bytes.data(), key.bytes.size(), label);
}

std::string key_id(const BackupKey &key) {
    const auto id = derive_subkey(key, "pgmig key id");
    return hex_encode(id.data(), 8);
}

std::string manifest_mac(const BackupKey &key, std::string_view manifest_body) {
    auto subkey = derive_subkey(key, "pgmig manifest v1");
    const auto mac = hmac_sha256(subkey.data(), subkey.size(), manifest_body);
    OPENSSL_cleanse(subkey.data(), subkey.size());
    return hex_encode(mac.data(), mac.size());
}

bool manifest_mac_matches(const BackupKey &key, std::string_view manifest_body,
                          std::string_view mac_hex) {
    const std::string expected = manifest_mac(key, manifest_body);
    // The length is public (always 64); only the digits must be compared in constant time.
    if (mac_hex.size() != expected.size()) return false;
    return CRYPTO_memcmp(expected.data(), mac_hex.data(), expected.size()) == 0;
}

}  // namespace pgmig::archive
