// The stored form of one backup object (a COPY-binary stream, a file of JSON lines): zstd
// compressed, encrypted with AES-256-GCM in authenticated chunks under a random per-object data
// key, and streamed in both directions. The byte layout is a contract other tools implement:
// docs/archive-object-format.md.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "archive/backup_key.hpp"

namespace pgmig::archive {

// Receives bytes in order; may be called many times.
using ByteSink = std::function<void(const unsigned char *data, size_t size)>;

inline constexpr size_t kObjectHeaderSize = 82;
inline constexpr size_t kDefaultChunkSize = size_t{1} << 20;
// A reader buffers one chunk, so this also bounds what a hostile header can make it allocate.
inline constexpr size_t kMaxChunkSize = size_t{64} << 20;
// Passed as zstd_level: store the bytes uncompressed (compression id 0), for input that is
// already compressed.
inline constexpr int kStoreUncompressed = INT_MIN;

// Where an object belongs: the backup it is part of and its path in that backup's folder.
// Format 2 objects authenticate it in every chunk, so an object moved, copied or swapped into
// another place (another table's path, another backup) fails at its first chunk.
struct ObjectPlace {
    std::string backup_id;
    std::string path;
};

// Encodes one object. Memory is bounded by the chunk size and the zstd window, never by the
// object size; the sink receives the stored bytes in pieces of ~256 KiB or one chunk, whichever
// is larger. An object whose finish() was never called is detected as truncated by a reader.
class ObjectWriter {
  public:
    // With a place it writes format 2 (bound to the place); without, the unbound format 1
    // that backups made before format 2 hold (kept for reading them, and for tests).
    ObjectWriter(const BackupKey &key, int zstd_level, ByteSink sink,
                 size_t chunk_size = kDefaultChunkSize, int zstd_workers = 0,
                 std::optional<ObjectPlace> place = std::nullopt);
    ~ObjectWriter();
    ObjectWriter(ObjectWriter &&) noexcept;
    ObjectWriter &operator=(ObjectWriter &&) noexcept;

    void write(const void *data, size_t size);
    // Ends the compressed stream, seals the final chunk and hands everything left to the sink.
    void finish();

    uint64_t plaintext_bytes() const;
    // SHA-256 of everything written, in lower-case hex; available after finish().
    std::string plaintext_sha256_hex() const;
    // Bytes handed to the sink so far; the object's stored size after finish().
    uint64_t stored_bytes() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// Decodes one object fed in pieces of any size. Plaintext reaches the sink only after the chunk
// it came from has authenticated, so a reader that throws has delivered a true prefix of the
// object. After an ArchiveError every further call throws. With an expected place it reads
// only format 2 objects bound to that place; without, only format 1 (unbound) objects, so an
// old unbound object can never stand in for a bound one.
class ObjectReader {
  public:
    ObjectReader(const BackupKey &key, ByteSink plaintext_sink,
                 std::optional<ObjectPlace> expected_place = std::nullopt);
    ~ObjectReader();
    ObjectReader(ObjectReader &&) noexcept;
    ObjectReader &operator=(ObjectReader &&) noexcept;

    void feed(const unsigned char *data, size_t size);
    // Throws ArchiveError unless the final chunk was seen: a stored object that was cut short
    // at a chunk boundary is still caught here.
    void finish();

    uint64_t plaintext_bytes() const;
    // SHA-256 of the plaintext delivered, in lower-case hex; available after finish().
    std::string plaintext_sha256_hex() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace pgmig::archive
