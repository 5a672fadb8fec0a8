// Where the backup key comes from: a key file (--key-file or PGMIG_BACKUP_KEY_FILE), or a
// passphrase (--passphrase-file or PGMIG_BACKUP_PASSPHRASE) stretched with scrypt and a salt
// stored in the manifest. Keys never travel in argv, logs or the manifest.
#pragma once

#include "archive/backup_key.hpp"
#include "archive/manifest.hpp"

#include <optional>
#include <string>

namespace pgmig::backup {

struct KeySource {
    std::string key_file;         // --key-file
    std::string passphrase_file;  // --passphrase-file
};

// Throws UsageError when no key is given at all (or two flags are); reads nothing.
void require_key_source(const KeySource &source);

// The key for a new backup; `kdf` is set when it came from a passphrase (a fresh salt).
archive::BackupKey key_for_new_backup(const KeySource &source,
                                      std::optional<archive::KdfParams> &kdf);

// The key that opens an existing backup, using the salt its manifest records.
archive::BackupKey key_for_backup(const KeySource &source,
                                  const archive::ManifestEnvelope &envelope);

}  // namespace pgmig::backup
