#include "backup/object_io.hpp"

namespace pgmig::backup {

StoredObjectWriter::StoredObjectWriter(store::Store &store, const std::string &key,
                                       std::string path, const archive::BackupKey &backup_key,
                                       int zstd_level, int zstd_workers)
    : upload_(store.create(key)), path_(std::move(path)) {
    store::ObjectUpload *upload = upload_.get();
    writer_ = std::make_unique<archive::ObjectWriter>(
        backup_key, zstd_level,
        [upload](const unsigned char *data, size_t size) { upload->write(data, size); },
        archive::kDefaultChunkSize, zstd_workers);
}

StoredObjectWriter::~StoredObjectWriter() {
    if (!finished_ && upload_) {
        try {
            upload_->abort();
        } catch (...) {
        }
    }
}

void StoredObjectWriter::write(const void *data, size_t size) {
    writer_->write(data, size);
}

archive::ObjectEntry StoredObjectWriter::finish() {
    writer_->finish();
    upload_->commit();
    finished_ = true;
    archive::ObjectEntry e;
    e.path = path_;
    e.plaintext_bytes = writer_->plaintext_bytes();
    e.plaintext_sha256 = writer_->plaintext_sha256_hex();
    e.stored_bytes = writer_->stored_bytes();
    return e;
}

void read_object(store::Store &store, const std::string &key, const archive::BackupKey &backup_key,
                 const archive::ObjectEntry &expected, const archive::ByteSink &sink) {
    archive::ObjectReader reader(backup_key, sink);
    uint64_t stored = 0;
    try {
        store.read(key, [&reader, &stored](const unsigned char *data, size_t size) {
            stored += size;
            reader.feed(data, size);
        });
        reader.finish();
    } catch (const archive::ArchiveError &e) {
        throw archive::ArchiveError("object " + key + ": " + e.what());
    }
    if (stored != expected.stored_bytes)
        throw archive::ArchiveError("object " + key + ": stored size is " + std::to_string(stored) +
                                    " bytes, the manifest says " +
                                    std::to_string(expected.stored_bytes));
    if (reader.plaintext_bytes() != expected.plaintext_bytes ||
        reader.plaintext_sha256_hex() != expected.plaintext_sha256)
        throw archive::ArchiveError("object " + key +
                                    ": content does not match the manifest's SHA-256");
}

}  // namespace pgmig::backup
