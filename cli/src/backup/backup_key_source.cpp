#include "backup/backup_key_source.hpp"

#include "exit_code.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pgmig::backup {

namespace {

std::string read_secret_file(const std::string &path, const char *what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError(std::string("cannot read the ") + what + " " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

struct Resolved {
    std::optional<archive::BackupKey> key;  // from a key file
    std::optional<std::string> passphrase;  // to stretch
};

Resolved resolve(const KeySource &source) {
    // Flags beat the environment, and two flags are a mistake, not a choice to guess at.
    if (!source.key_file.empty() && !source.passphrase_file.empty())
        throw UsageError("give --key-file or --passphrase-file, not both");
    std::string key_file = source.key_file;
    if (key_file.empty() && source.passphrase_file.empty()) key_file = env("PGMIG_BACKUP_KEY_FILE");
    if (!key_file.empty())
        return {archive::key_from_file_contents(read_secret_file(key_file, "key file")), {}};
    if (!source.passphrase_file.empty()) {
        std::string p = read_secret_file(source.passphrase_file, "passphrase file");
        while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
        return {{}, p};
    }
    const std::string p = env("PGMIG_BACKUP_PASSPHRASE");
    if (!p.empty()) return {{}, p};
    throw UsageError(
        "backups are encrypted and need a key: --key-file PATH (32 random bytes, e.g. "
        "`head -c 32 /dev/urandom > backup.key`), PGMIG_BACKUP_KEY_FILE, --passphrase-file "
        "PATH, or PGMIG_BACKUP_PASSPHRASE");
}

}  // namespace

void require_key_source(const KeySource &source) {
    if (!source.key_file.empty() || !source.passphrase_file.empty()) {
        if (!source.key_file.empty() && !source.passphrase_file.empty())
            throw UsageError("give --key-file or --passphrase-file, not both");
        return;
    }
    if (!env("PGMIG_BACKUP_KEY_FILE").empty() || !env("PGMIG_BACKUP_PASSPHRASE").empty()) return;
    resolve(source);  // throws the usage error that explains the choices
}

archive::BackupKey key_for_new_backup(const KeySource &source,
                                      std::optional<archive::KdfParams> &kdf) {
    Resolved r = resolve(source);
    if (r.key) {
        kdf.reset();
        return *r.key;
    }
    kdf = archive::new_kdf_params();
    return archive::key_from_passphrase(*r.passphrase, *kdf);
}

archive::BackupKey key_for_backup(const KeySource &source,
                                  const archive::ManifestEnvelope &envelope) {
    Resolved r = resolve(source);
    if (r.key) return *r.key;
    if (!envelope.kdf)
        throw UsageError("this backup was made with a key file, not a passphrase: pass --key-file");
    return archive::key_from_passphrase(*r.passphrase, *envelope.kdf);
}

}  // namespace pgmig::backup
