// One backup object on its way into or out of a store: compressed, encrypted and hashed
// while it streams, bound to its place in the backup, and checked against its manifest entry
// on the way back.
#pragma once

#include "archive/manifest.hpp"
#include "archive/object_codec.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace pgmig::backup {

class StoredObjectWriter {
  public:
    // Writes `<backup_id>/<path>` in the store, bound to that place (object format 2); `path`
    // is what the manifest records (relative to the backup's folder).
    StoredObjectWriter(store::Store &store, const std::string &backup_id, std::string path,
                       const archive::BackupKey &backup_key, int zstd_level, int zstd_workers);
    ~StoredObjectWriter();  // an unfinished object is aborted: nothing under its key
    void write(const void *data, size_t size);
    // Seals the object, commits it to the store and returns its manifest entry.
    archive::ObjectEntry finish();

  private:
    std::unique_ptr<store::ObjectUpload> upload_;
    std::unique_ptr<archive::ObjectWriter> writer_;
    std::string path_;
    bool finished_ = false;
};

// The object's key in the store: "<backup id>/<path>".
std::string object_key(const archive::Manifest &manifest, const archive::ObjectEntry &object);

// Streams an object's plaintext to `sink`, authenticating every chunk (and, for format 2
// backups, that the object is bound to this place), then checks the stored size, plaintext
// size and SHA-256 against the manifest entry. Errors name the object. What reached the sink
// before an error is a true prefix of the object, but the object as a whole is only known
// good when this returns: a caller that cannot take writes back uses StagedObject.
void read_object(store::Store &store, const archive::Manifest &manifest,
                 const archive::ObjectEntry &object, const archive::BackupKey &backup_key,
                 const archive::ByteSink &sink);

// An object downloaded once into a private temporary file (its stored, still encrypted
// bytes: no plaintext reaches the disk) and checked in full on the way: every chunk, the
// sizes and the SHA-256, plus whatever `check` says of the plaintext. For writes that cannot
// be rolled back (DynamoDB): nothing is written from an object that might still fail.
class StagedObject {
  public:
    // Throws ArchiveError naming the object (or what `check` throws) when it is not good.
    StagedObject(store::Store &store, const archive::Manifest &manifest,
                 const archive::ObjectEntry &object, const archive::BackupKey &backup_key,
                 const archive::ByteSink &check);
    ~StagedObject();
    StagedObject(const StagedObject &) = delete;
    StagedObject &operator=(const StagedObject &) = delete;

    // Streams the plaintext again from the file, authenticated and hashed again (the file
    // is private and already checked; this is defence in depth, not the check).
    void read(const archive::ByteSink &sink) const;
    uint64_t stored_bytes() const { return stored_bytes_; }

  private:
    std::string key_;
    std::optional<archive::ObjectPlace> place_;
    archive::ObjectEntry expected_;
    archive::BackupKey backup_key_;
    int fd_ = -1;  // the file is unlinked as soon as it is open: nothing is left behind
    uint64_t stored_bytes_ = 0;
};

}  // namespace pgmig::backup
