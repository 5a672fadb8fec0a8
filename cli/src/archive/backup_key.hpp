// The key-encryption key (KEK) of a backup: read from a key file or derived from a passphrase,
// identified by a public fingerprint, and used to authenticate the backup manifest. Objects
// are encrypted under per-object data keys that are wrapped with a key derived from the KEK
// (see object_codec.hpp and docs/archive-object-format.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pgmig::archive {

// Anything that goes wrong reading, writing or keying a backup archive. The message says what
// failed and never contains key material.
class ArchiveError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct BackupKey {
    std::array<unsigned char, 32> bytes;
};

// Reads a key file holding exactly 32 raw bytes, 64 hex digits (optionally followed by
// whitespace), or the base64 of 32 bytes (optionally followed by a newline). Throws
// ArchiveError naming the accepted formats, never echoing the contents.
BackupKey key_from_file_contents(std::string_view contents);

// How a passphrase becomes a key. Stored in the backup manifest so a restore derives the same
// key; the salt is public.
struct KdfParams {
    std::string algorithm = "scrypt";
    uint64_t n = 1 << 15;
    uint32_t r = 8, p = 1;
    std::string salt_hex;
};

// Default parameters with a fresh random 16-byte salt, for a new backup.
KdfParams new_kdf_params();

// scrypt(passphrase, salt, N, r, p) truncated to 32 bytes. Throws ArchiveError for an empty
// passphrase, an unknown algorithm, a malformed salt, or parameters that are invalid or would
// need more than 1 GiB of memory (the manifest they come from may be hostile).
BackupKey key_from_passphrase(std::string_view passphrase, const KdfParams &params);

// HMAC-SHA256(KEK, label): the one way a purpose-specific key is taken from the KEK, so the
// KEK itself never keys more than one primitive.
std::array<unsigned char, 32> derive_subkey(const BackupKey &key, std::string_view label);

// A 16-hex-digit public fingerprint of the key, so a restore can say "made with key <id>, yours
// is <id>" without revealing either key.
std::string key_id(const BackupKey &key);

// Lower-case hex HMAC-SHA256 of the manifest body under a manifest subkey of the KEK.
std::string manifest_mac(const BackupKey &key, std::string_view manifest_body);

// Whether `mac_hex` is the manifest_mac of the body, compared in constant time.
bool manifest_mac_matches(const BackupKey &key, std::string_view manifest_body,
                          std::string_view mac_hex);

// Lower-case hex, as key ids, MACs and digests are written.
std::string hex_encode(const unsigned char *data, size_t size);

}  // namespace pgmig::archive
