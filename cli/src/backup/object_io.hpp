// One backup object on its way into or out of a store: compressed, encrypted and hashed
// while it streams, checked against its manifest entry on the way back.
#pragma once

#include "archive/manifest.hpp"
#include "archive/object_codec.hpp"
#include "store/store.hpp"

#include <memory>
#include <string>

namespace pgmig::backup {

class StoredObjectWriter {
  public:
    // `key` is the object's key in the store; `path` is what the manifest records (relative
    // to the backup's folder).
    StoredObjectWriter(store::Store &store, const std::string &key, std::string path,
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

// Streams an object's plaintext to `sink`, authenticating every chunk, then checks the
// plaintext size and SHA-256 against the manifest entry. Errors name the object.
void read_object(store::Store &store, const std::string &key, const archive::BackupKey &backup_key,
                 const archive::ObjectEntry &expected, const archive::ByteSink &sink);

}  // namespace pgmig::backup
