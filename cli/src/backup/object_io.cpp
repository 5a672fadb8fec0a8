#include "backup/object_io.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pgmig::backup {

namespace {

// Feeds a reader from `source`, then checks the object against its manifest entry.
void decode_checked(const std::string &key, const std::optional<archive::ObjectPlace> &place,
                    const archive::BackupKey &backup_key, const archive::ObjectEntry &expected,
                    const std::function<void(const store::ByteSink &)> &source,
                    const archive::ByteSink &sink) {
    archive::ObjectReader reader(backup_key, sink, place);
    uint64_t stored = 0;
    try {
        source([&reader, &stored](const unsigned char *data, size_t size) {
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

std::string temp_folder() {
    for (const char *name : {"PGMIG_TMPDIR", "TMPDIR"})
        if (const char *v = std::getenv(name); v != nullptr && *v != '\0') return v;
    return "/tmp";
}

}  // namespace

StoredObjectWriter::StoredObjectWriter(store::Store &store, const std::string &backup_id,
                                       std::string path, const archive::BackupKey &backup_key,
                                       int zstd_level, int zstd_workers)
    : upload_(store.create(backup_id + "/" + path)), path_(std::move(path)) {
    store::ObjectUpload *upload = upload_.get();
    writer_ = std::make_unique<archive::ObjectWriter>(
        backup_key, zstd_level,
        [upload](const unsigned char *data, size_t size) { upload->write(data, size); },
        archive::kDefaultChunkSize, zstd_workers, archive::ObjectPlace{backup_id, path_});
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

std::string object_key(const archive::Manifest &manifest, const archive::ObjectEntry &object) {
    return manifest.backup_id + "/" + object.path;
}

void read_object(store::Store &store, const archive::Manifest &manifest,
                 const archive::ObjectEntry &object, const archive::BackupKey &backup_key,
                 const archive::ByteSink &sink) {
    const std::string key = object_key(manifest, object);
    decode_checked(
        key, archive::object_place(manifest, object), backup_key, object,
        [&store, &key](const store::ByteSink &feed) { store.read(key, feed); }, sink);
}

StagedObject::StagedObject(store::Store &store, const archive::Manifest &manifest,
                           const archive::ObjectEntry &object, const archive::BackupKey &backup_key,
                           const archive::ByteSink &check)
    : key_(object_key(manifest, object)),
      place_(archive::object_place(manifest, object)),
      expected_(object),
      backup_key_(backup_key) {
    std::string path = temp_folder() + "/pgmig-staged-XXXXXX";
    fd_ = ::mkostemp(path.data(), O_CLOEXEC);  // mode 0600
    if (fd_ < 0)
        throw std::runtime_error("cannot create a temporary file in " + temp_folder() +
                                 " to stage object " + key_ +
                                 " (set PGMIG_TMPDIR or TMPDIR): " + std::strerror(errno));
    ::unlink(path.c_str());
    try {
        decode_checked(
            key_, place_, backup_key_, expected_,
            [&](const store::ByteSink &feed) {
                store.read(key_, [&](const unsigned char *data, size_t size) {
                    for (size_t done = 0; done < size;) {
                        const ssize_t n = ::write(fd_, data + done, size - done);
                        if (n < 0 && errno == EINTR) continue;
                        if (n < 0)
                            throw std::runtime_error("cannot stage object " + key_ + " in " +
                                                     temp_folder() + ": " + std::strerror(errno));
                        done += static_cast<size_t>(n);
                    }
                    stored_bytes_ += size;
                    feed(data, size);
                });
            },
            check);
    } catch (...) {
        ::close(fd_);
        fd_ = -1;
        throw;
    }
}

StagedObject::~StagedObject() {
    if (fd_ >= 0) ::close(fd_);
    OPENSSL_cleanse(backup_key_.bytes.data(), backup_key_.bytes.size());
}

void StagedObject::read(const archive::ByteSink &sink) const {
    decode_checked(
        key_, place_, backup_key_, expected_,
        [this](const store::ByteSink &feed) {
            std::vector<unsigned char> buffer(1 << 20);
            for (off_t at = 0;;) {
                const ssize_t n = ::pread(fd_, buffer.data(), buffer.size(), at);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0)
                    throw std::runtime_error("cannot read the staged copy of object " + key_ +
                                             ": " + std::strerror(errno));
                if (n == 0) break;
                feed(buffer.data(), static_cast<size_t>(n));
                at += n;
            }
        },
        sink);
}

}  // namespace pgmig::backup
