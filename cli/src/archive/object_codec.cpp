#include "archive/object_codec.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace pgmig::archive {

namespace {

// Header layout (docs/archive-object-format.md): offsets of each field.
constexpr unsigned char kMagic[8] = {'P', 'G', 'M', 'I', 'G', 'O', 'B', 'J'};
constexpr size_t kVersionAt = 8;
constexpr size_t kCompressionAt = 9;
constexpr size_t kChunkSizeAt = 10;
constexpr size_t kWrapNonceAt = 14;
constexpr size_t kWrappedKeyAt = 26;
constexpr size_t kWrapTagAt = 58;
constexpr size_t kNoncePrefixAt = 74;
static_assert(kNoncePrefixAt + 8 == kObjectHeaderSize);

// Format 1 chunks authenticate their object, position and finality; format 2 chunks also
// authenticate the object's place (backup id and path).
constexpr unsigned char kFormatUnbound = 1;
constexpr unsigned char kFormatBound = 2;
constexpr unsigned char kCompressionNone = 0;
constexpr unsigned char kCompressionZstd = 1;

constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kLengthSize = 4;
constexpr size_t kChunkAadSize = 32 + 8 + 1;               // format 1
constexpr size_t kBoundChunkAadSize = kChunkAadSize + 32;  // format 2: and the place hash
// The 12-byte nonce is the 8-byte prefix and a 4-byte chunk index, so an index must fit 32 bits.
constexpr uint64_t kMaxChunks = uint64_t{1} << 32;
// Small enough to keep the writer's buffer modest, large enough that tiny chunks still reach
// the sink (a file, an upload part) in efficient pieces.
constexpr size_t kSinkPieceSize = size_t{256} << 10;
// zstd's own default, set explicitly: a frame that asks for a larger window (possible only for
// someone holding the key) is refused instead of making the reader allocate gigabytes.
constexpr int kMaxWindowLog = 27;

constexpr const char *kWrapKeyLabel = "pgmig object key wrap v1";
constexpr const char *kPlaceLabel = "pgmig object place v2";

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX *ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
struct DigestCtxFree {
    void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
struct CCtxFree {
    void operator()(ZSTD_CCtx *ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxFree {
    void operator()(ZSTD_DCtx *ctx) const { ZSTD_freeDCtx(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
using DigestCtx = std::unique_ptr<EVP_MD_CTX, DigestCtxFree>;
using CompressCtx = std::unique_ptr<ZSTD_CCtx, CCtxFree>;
using DecompressCtx = std::unique_ptr<ZSTD_DCtx, DCtxFree>;

void put_le32(unsigned char *out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

uint32_t get_le32(const unsigned char *in) {
    return uint32_t{in[0]} | uint32_t{in[1]} << 8 | uint32_t{in[2]} << 16 | uint32_t{in[3]} << 24;
}

void put_be(unsigned char *out, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i)
        out[i] = static_cast<unsigned char>(v >> (8 * (bytes - 1 - i)));
}

void random_bytes(unsigned char *out, size_t size) {
    if (RAND_bytes(out, static_cast<int>(size)) != 1)
        throw ArchiveError("could not generate random bytes (OpenSSL RAND_bytes failed)");
}

[[noreturn]] void openssl_failed(const char *what) {
    throw ArchiveError(std::string("AES-256-GCM ") + what + " failed in OpenSSL");
}

CipherCtx gcm_context(const unsigned char *key, bool encrypt) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) openssl_failed("context allocation");
    if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key, nullptr, encrypt ? 1 : 0) !=
        1)
        openssl_failed("key setup");
    return ctx;
}

// One GCM message under the context's key; the default 12-byte IV length is the nonce size.
void gcm_seal(EVP_CIPHER_CTX *ctx, const unsigned char *nonce, const unsigned char *aad,
              size_t aad_size, const unsigned char *plaintext, size_t size, unsigned char *out,
              unsigned char *tag) {
    int n = 0;
    if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_size)) != 1)
        openssl_failed("encryption setup");
    if (size > 0 && EVP_EncryptUpdate(ctx, out, &n, plaintext, static_cast<int>(size)) != 1)
        openssl_failed("encryption");
    if (EVP_EncryptFinal_ex(ctx, out + size, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1)
        openssl_failed("encryption");
}

// False when the tag does not verify; `out` then holds garbage that must not be used.
bool gcm_open(EVP_CIPHER_CTX *ctx, const unsigned char *nonce, const unsigned char *aad,
              size_t aad_size, const unsigned char *ciphertext, size_t size,
              const unsigned char *tag, unsigned char *out) {
    int n = 0;
    if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
        EVP_DecryptUpdate(ctx, nullptr, &n, aad, static_cast<int>(aad_size)) != 1)
        openssl_failed("decryption setup");
    if (size > 0 && EVP_DecryptUpdate(ctx, out, &n, ciphertext, static_cast<int>(size)) != 1)
        openssl_failed("decryption");
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                            const_cast<unsigned char *>(tag)) != 1)
        openssl_failed("decryption setup");
    return EVP_DecryptFinal_ex(ctx, out + size, &n) == 1;
}

// Chunk i is encrypted under nonce prefix || be32(i) and authenticates
// sha256(header) || be64(i) || final, which pins it to its object, its position and whether
// the stream ends with it; in format 2 also || place hash, which pins it to its place.
struct ChunkBinding {
    std::array<unsigned char, kNonceSize> nonce;
    std::array<unsigned char, kBoundChunkAadSize> aad;
    size_t aad_size = kChunkAadSize;
};

ChunkBinding chunk_binding(const unsigned char *nonce_prefix, const unsigned char *header_hash,
                           uint64_t index, bool final, const unsigned char *place_hash) {
    ChunkBinding b;
    std::memcpy(b.nonce.data(), nonce_prefix, 8);
    put_be(b.nonce.data() + 8, index, 4);
    std::memcpy(b.aad.data(), header_hash, 32);
    put_be(b.aad.data() + 32, index, 8);
    b.aad[40] = final ? 1 : 0;
    if (place_hash != nullptr) {
        std::memcpy(b.aad.data() + kChunkAadSize, place_hash, 32);
        b.aad_size = kBoundChunkAadSize;
    }
    return b;
}

DigestCtx sha256_context() {
    DigestCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
        throw ArchiveError("SHA-256 setup failed in OpenSSL");
    return ctx;
}

void sha256_update(EVP_MD_CTX *ctx, const void *data, size_t size) {
    if (size > 0 && EVP_DigestUpdate(ctx, data, size) != 1)
        throw ArchiveError("SHA-256 failed in OpenSSL");
}

std::array<unsigned char, 32> sha256_final(EVP_MD_CTX *ctx) {
    std::array<unsigned char, 32> digest{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx, digest.data(), &size) != 1 || size != digest.size())
        throw ArchiveError("SHA-256 failed in OpenSSL");
    return digest;
}

std::array<unsigned char, 32> sha256(const unsigned char *data, size_t size) {
    DigestCtx ctx = sha256_context();
    sha256_update(ctx.get(), data, size);
    return sha256_final(ctx.get());
}

// SHA-256("pgmig object place v2" || 0 || backup id || 0 || path). Backup ids and object
// paths hold no NUL byte, so the encoding is unambiguous.
std::array<unsigned char, 32> place_hash(const ObjectPlace &place) {
    if (place.backup_id.find('\0') != std::string::npos ||
        place.path.find('\0') != std::string::npos)
        throw ArchiveError("an object place may not contain a NUL byte");
    std::string text = kPlaceLabel;
    text += '\0';
    text += place.backup_id;
    text += '\0';
    text += place.path;
    return sha256(reinterpret_cast<const unsigned char *>(text.data()), text.size());
}

std::string chunk_size_range() {
    return "1.." + std::to_string(kMaxChunkSize);
}

// Marks an object broken for the duration of an operation, so that one that threw halfway
// (a failing sink, a corrupt chunk) refuses to be used again instead of producing nonsense.
class Guard {
  public:
    explicit Guard(bool &broken) : broken_(broken) { broken_ = true; }
    void succeeded() { broken_ = false; }

  private:
    bool &broken_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

class ObjectWriter::Impl {
  public:
    Impl(const BackupKey &key, int zstd_level, ByteSink sink, size_t chunk_size, int zstd_workers,
         const std::optional<ObjectPlace> &place)
        : sink_(std::move(sink)), chunk_size_(chunk_size), sha_(sha256_context()) {
        if (place) {
            place_hash_ = place_hash(*place);
            bound_ = true;
        }
        if (chunk_size < 1 || chunk_size > kMaxChunkSize)
            throw ArchiveError("chunk size " + std::to_string(chunk_size) + " is outside " +
                               chunk_size_range());
        compression_ = zstd_level == kStoreUncompressed ? kCompressionNone : kCompressionZstd;
        if (compression_ == kCompressionZstd) start_zstd(zstd_level, zstd_workers);

        std::array<unsigned char, kObjectHeaderSize> header{};
        std::memcpy(header.data(), kMagic, sizeof kMagic);
        header[kVersionAt] = bound_ ? kFormatBound : kFormatUnbound;
        header[kCompressionAt] = compression_;
        put_le32(header.data() + kChunkSizeAt, static_cast<uint32_t>(chunk_size));
        random_bytes(header.data() + kWrapNonceAt, kNonceSize);
        random_bytes(data_key_.data(), data_key_.size());
        auto wrap_key = derive_subkey(key, kWrapKeyLabel);
        {
            CipherCtx wrap = gcm_context(wrap_key.data(), true);
            OPENSSL_cleanse(wrap_key.data(), wrap_key.size());
            gcm_seal(wrap.get(), header.data() + kWrapNonceAt, header.data(), kWrappedKeyAt,
                     data_key_.data(), kKeySize, header.data() + kWrappedKeyAt,
                     header.data() + kWrapTagAt);
        }
        random_bytes(header.data() + kNoncePrefixAt, 8);
        std::memcpy(nonce_prefix_.data(), header.data() + kNoncePrefixAt, 8);
        header_hash_ = sha256(header.data(), header.size());
        cipher_ = gcm_context(data_key_.data(), true);

        chunk_.resize(chunk_size_);
        out_.reserve(std::max(kSinkPieceSize, chunk_size_) + kLengthSize + kTagSize +
                     kObjectHeaderSize);
        out_.insert(out_.end(), header.begin(), header.end());
    }

    ~Impl() {
        OPENSSL_cleanse(data_key_.data(), data_key_.size());
        if (!chunk_.empty()) OPENSSL_cleanse(chunk_.data(), chunk_.size());
    }

    void write(const void *data, size_t size) {
        check_usable("write");
        Guard guard(broken_);
        sha256_update(sha_.get(), data, size);
        plaintext_bytes_ += size;
        const auto *bytes = static_cast<const unsigned char *>(data);
        if (compression_ == kCompressionNone) {
            while (size > 0) {
                const size_t take = std::min(size, chunk_size_ - fill_);
                std::memcpy(chunk_.data() + fill_, bytes, take);
                fill_ += take;
                bytes += take;
                size -= take;
                if (fill_ == chunk_size_) seal(false);
            }
        } else {
            ZSTD_inBuffer in{bytes, size, 0};
            while (in.pos < in.size) {
                ZSTD_outBuffer out{chunk_.data(), chunk_size_, fill_};
                check_zstd(ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_continue));
                fill_ = out.pos;
                if (fill_ == chunk_size_) seal(false);
            }
        }
        guard.succeeded();
    }

    void finish() {
        check_usable("finish");
        Guard guard(broken_);
        if (compression_ == kCompressionZstd) {
            for (;;) {
                ZSTD_inBuffer in{nullptr, 0, 0};
                ZSTD_outBuffer out{chunk_.data(), chunk_size_, fill_};
                const size_t remaining =
                    check_zstd(ZSTD_compressStream2(cctx_.get(), &out, &in, ZSTD_e_end));
                fill_ = out.pos;
                if (fill_ == chunk_size_) seal(false);
                if (remaining == 0) break;
            }
        }
        // A full chunk is never final, so the final one is shorter than chunk_size (empty when
        // the stream length is a multiple of it): a reader knows the end from the length alone.
        seal(true);
        flush();
        const auto digest = sha256_final(sha_.get());
        sha_hex_ = hex_encode(digest.data(), digest.size());
        finished_ = true;
        guard.succeeded();
    }

    uint64_t plaintext_bytes() const { return plaintext_bytes_; }
    uint64_t stored_bytes() const { return stored_bytes_; }

    std::string plaintext_sha256_hex() const {
        if (!finished_)
            throw std::logic_error("ObjectWriter::plaintext_sha256_hex called before finish()");
        return sha_hex_;
    }

  private:
    void start_zstd(int level, int workers) {
        cctx_.reset(ZSTD_createCCtx());
        if (!cctx_) throw ArchiveError("could not allocate a zstd compression context");
        check_zstd(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_compressionLevel, level));
        if (workers > 0) {
            // A libzstd built without threads reports an upper bound of 0: compress in this
            // thread then, with identical output format.
            const ZSTD_bounds bounds = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers);
            if (!ZSTD_isError(bounds.error) && bounds.upperBound > 0)
                check_zstd(ZSTD_CCtx_setParameter(cctx_.get(), ZSTD_c_nbWorkers,
                                                  std::min(workers, bounds.upperBound)));
        }
    }

    static size_t check_zstd(size_t result) {
        if (ZSTD_isError(result))
            throw ArchiveError(std::string("zstd compression failed: ") +
                               ZSTD_getErrorName(result));
        return result;
    }

    void check_usable(const char *operation) const {
        if (finished_)
            throw std::logic_error(std::string("ObjectWriter::") + operation +
                                   " called after finish()");
        if (broken_)
            throw ArchiveError(std::string("cannot ") + operation +
                               ": an earlier error left this object incomplete");
    }

    // Encrypts chunk_[0, fill_) as the next chunk and queues its frame for the sink.
    void seal(bool final) {
        if (chunk_index_ >= kMaxChunks)
            throw ArchiveError("object too large: more than 2^32 chunks of " +
                               std::to_string(chunk_size_) + " bytes; use a larger chunk size");
        const ChunkBinding b =
            chunk_binding(nonce_prefix_.data(), header_hash_.data(), chunk_index_, final,
                          bound_ ? place_hash_.data() : nullptr);
        const size_t frame_at = out_.size();
        out_.resize(frame_at + kLengthSize + fill_ + kTagSize);
        unsigned char *frame = out_.data() + frame_at;
        put_le32(frame, static_cast<uint32_t>(fill_));
        gcm_seal(cipher_.get(), b.nonce.data(), b.aad.data(), b.aad_size, chunk_.data(), fill_,
                 frame + kLengthSize, frame + kLengthSize + fill_);
        ++chunk_index_;
        fill_ = 0;
        if (out_.size() >= kSinkPieceSize) flush();
    }

    void flush() {
        if (out_.empty()) return;
        sink_(out_.data(), out_.size());
        stored_bytes_ += out_.size();
        out_.clear();
    }

    ByteSink sink_;
    size_t chunk_size_;
    unsigned char compression_ = kCompressionZstd;
    CompressCtx cctx_;
    CipherCtx cipher_;
    DigestCtx sha_;
    std::array<unsigned char, kKeySize> data_key_{};
    std::array<unsigned char, 8> nonce_prefix_{};
    std::array<unsigned char, 32> header_hash_{};
    std::array<unsigned char, 32> place_hash_{};
    bool bound_ = false;                // format 2
    std::vector<unsigned char> chunk_;  // compressed bytes of the chunk being filled
    size_t fill_ = 0;
    std::vector<unsigned char> out_;  // stored bytes not yet handed to the sink
    uint64_t chunk_index_ = 0;
    uint64_t plaintext_bytes_ = 0;
    uint64_t stored_bytes_ = 0;
    std::string sha_hex_;
    bool finished_ = false;
    bool broken_ = false;
};

ObjectWriter::ObjectWriter(const BackupKey &key, int zstd_level, ByteSink sink, size_t chunk_size,
                           int zstd_workers, std::optional<ObjectPlace> place)
    : impl_(std::make_unique<Impl>(key, zstd_level, std::move(sink), chunk_size, zstd_workers,
                                   place)) {}
ObjectWriter::~ObjectWriter() = default;
ObjectWriter::ObjectWriter(ObjectWriter &&) noexcept = default;
ObjectWriter &ObjectWriter::operator=(ObjectWriter &&) noexcept = default;

void ObjectWriter::write(const void *data, size_t size) {
    impl_->write(data, size);
}
void ObjectWriter::finish() {
    impl_->finish();
}
uint64_t ObjectWriter::plaintext_bytes() const {
    return impl_->plaintext_bytes();
}
std::string ObjectWriter::plaintext_sha256_hex() const {
    return impl_->plaintext_sha256_hex();
}
uint64_t ObjectWriter::stored_bytes() const {
    return impl_->stored_bytes();
}

// ---------------------------------------------------------------------------------------------

class ObjectReader::Impl {
  public:
    Impl(const BackupKey &key, ByteSink sink, const std::optional<ObjectPlace> &place)
        : sink_(std::move(sink)),
          wrap_key_(derive_subkey(key, kWrapKeyLabel)),
          sha_(sha256_context()) {
        if (place) {
            place_hash_ = place_hash(*place);
            bound_ = true;
        }
        unit_.reserve(kObjectHeaderSize);
    }

    ~Impl() {
        OPENSSL_cleanse(wrap_key_.data(), wrap_key_.size());
        if (!plain_.empty()) OPENSSL_cleanse(plain_.data(), plain_.size());
    }

    void feed(const unsigned char *data, size_t size) {
        check_usable("feed");
        Guard guard(broken_);
        try {
            while (size > 0) {
                if (state_ == State::done)
                    throw ArchiveError("data after the final chunk: " + std::to_string(size) +
                                       " unexpected bytes follow chunk " +
                                       std::to_string(chunk_index_ - 1));
                const size_t take = std::min(size, unit_size_ - unit_.size());
                unit_.insert(unit_.end(), data, data + take);
                data += take;
                size -= take;
                if (state_ == State::header) check_header_fields();
                if (unit_.size() == unit_size_) complete_unit();
            }
        } catch (const ArchiveError &e) {
            error_ = e.what();
            throw;
        }
        guard.succeeded();
    }

    void finish() {
        check_usable("finish");
        Guard guard(broken_);
        try {
            if (state_ == State::header)
                throw ArchiveError(unit_.empty()
                                       ? "object is empty: not even a header"
                                       : "object is truncated: header incomplete (" +
                                             std::to_string(unit_.size()) + " of " +
                                             std::to_string(kObjectHeaderSize) + " bytes)");
            if (state_ != State::done)
                throw ArchiveError("object is truncated: no final chunk after " +
                                   std::to_string(chunk_index_) + " chunks" +
                                   (unit_.empty() ? std::string()
                                                  : " (chunk " + std::to_string(chunk_index_) +
                                                        " is cut off after " +
                                                        std::to_string(unit_.size()) + " bytes)"));
        } catch (const ArchiveError &e) {
            error_ = e.what();
            throw;
        }
        if (!finished_) {
            const auto digest = sha256_final(sha_.get());
            sha_hex_ = hex_encode(digest.data(), digest.size());
            finished_ = true;
        }
        guard.succeeded();
    }

    uint64_t plaintext_bytes() const { return plaintext_bytes_; }

    std::string plaintext_sha256_hex() const {
        if (!finished_)
            throw std::logic_error("ObjectReader::plaintext_sha256_hex called before finish()");
        return sha_hex_;
    }

  private:
    enum class State { header, chunk_length, chunk_body, done };

    void check_usable(const char *operation) const {
        if (!error_.empty())
            throw ArchiveError(std::string("cannot ") + operation +
                               ": this object already failed: " + error_);
        if (broken_)
            throw ArchiveError(std::string("cannot ") + operation +
                               ": an earlier error (in the plaintext sink) stopped this reader");
    }

    // Checked as soon as each field arrives, so a file that is not an object fails on its
    // first bytes with a specific message instead of as a "wrong key".
    void check_header_fields() const {
        const size_t have = unit_.size();
        if (std::memcmp(unit_.data(), kMagic, std::min(have, sizeof kMagic)) != 0)
            throw ArchiveError("not a pgmig object (bad magic)");
        if (have > kVersionAt) {
            const unsigned char version = unit_[kVersionAt];
            if (version != kFormatUnbound && version != kFormatBound)
                throw ArchiveError("unsupported object format version " + std::to_string(version) +
                                   " (this pgmig reads versions 1 and 2); use a newer pgmig");
            // The version is not authenticated until the wrap tag: a mismatch is refused
            // outright, so an old unbound object cannot stand in for a bound one.
            if (bound_ && version == kFormatUnbound)
                throw ArchiveError(
                    "object is format 1 (not bound to its place), but its backup's manifest "
                    "requires format 2: it is not the object the manifest names");
            if (!bound_ && version == kFormatBound)
                throw ArchiveError(
                    "object is format 2 (bound to its place in a backup), but it is read as a "
                    "format 1 object: read it through its backup's manifest");
        }
        if (have > kCompressionAt && unit_[kCompressionAt] != kCompressionNone &&
            unit_[kCompressionAt] != kCompressionZstd)
            throw ArchiveError("unsupported compression id " +
                               std::to_string(unit_[kCompressionAt]) + " (known: 0 none, 1 zstd)");
        if (have >= kChunkSizeAt + 4) {
            const uint32_t chunk_size = get_le32(unit_.data() + kChunkSizeAt);
            if (chunk_size < 1 || chunk_size > kMaxChunkSize)
                throw ArchiveError("object header declares chunk size " +
                                   std::to_string(chunk_size) + ", outside " + chunk_size_range());
        }
    }

    void complete_unit() {
        switch (state_) {
            case State::header:
                open_header();
                expect(State::chunk_length, kLengthSize);
                break;
            case State::chunk_length: {
                if (chunk_index_ >= kMaxChunks)
                    throw ArchiveError(
                        "object has more than 2^32 chunks, which no writer produces");
                const uint32_t length = get_le32(unit_.data());
                // Checked before anything is allocated for the body: the length is not yet
                // authenticated.
                if (length > chunk_size_)
                    throw ArchiveError("chunk " + std::to_string(chunk_index_) +
                                       " declares length " + std::to_string(length) +
                                       " above the limit " + std::to_string(chunk_size_) +
                                       " (the object's chunk size)");
                body_size_ = length;
                expect(State::chunk_body, body_size_ + kTagSize);
                break;
            }
            case State::chunk_body:
                open_chunk();
                break;
            case State::done:
                break;
        }
    }

    void expect(State state, size_t unit_size) {
        state_ = state;
        unit_size_ = unit_size;
        unit_.clear();
        unit_.reserve(unit_size);
    }

    void open_header() {
        const unsigned char *h = unit_.data();
        compression_ = h[kCompressionAt];
        chunk_size_ = get_le32(h + kChunkSizeAt);
        std::array<unsigned char, kKeySize> data_key{};
        {
            CipherCtx unwrap = gcm_context(wrap_key_.data(), false);
            if (!gcm_open(unwrap.get(), h + kWrapNonceAt, h, kWrappedKeyAt, h + kWrappedKeyAt,
                          kKeySize, h + kWrapTagAt, data_key.data()))
                throw ArchiveError(
                    "wrong key: the object's data key does not authenticate under this key (or "
                    "the object header is damaged); restore with the key the backup was made "
                    "with");
        }
        cipher_ = gcm_context(data_key.data(), false);
        OPENSSL_cleanse(data_key.data(), data_key.size());
        std::memcpy(nonce_prefix_.data(), h + kNoncePrefixAt, 8);
        header_hash_ = sha256(h, kObjectHeaderSize);
        plain_.resize(chunk_size_);
        if (compression_ == kCompressionZstd) {
            dctx_.reset(ZSTD_createDCtx());
            if (!dctx_) throw ArchiveError("could not allocate a zstd decompression context");
            if (ZSTD_isError(
                    ZSTD_DCtx_setParameter(dctx_.get(), ZSTD_d_windowLogMax, kMaxWindowLog)))
                throw ArchiveError("could not limit the zstd window size");
            zout_.resize(ZSTD_DStreamOutSize());
        }
    }

    void open_chunk() {
        // Only a full chunk may have a successor, so the length tells whether this is the end;
        // the final flag in the AAD makes a forged "end" fail authentication.
        const bool final = body_size_ < chunk_size_;
        const ChunkBinding b =
            chunk_binding(nonce_prefix_.data(), header_hash_.data(), chunk_index_, final,
                          bound_ ? place_hash_.data() : nullptr);
        if (!gcm_open(cipher_.get(), b.nonce.data(), b.aad.data(), b.aad_size, unit_.data(),
                      body_size_, unit_.data() + body_size_, plain_.data()))
            throw ArchiveError("chunk " + std::to_string(chunk_index_) +
                               (bound_ ? " failed authentication (tampered, reordered, from "
                                         "another object, or an object of another table or "
                                         "backup put in this one's place)"
                                       : " failed authentication (tampered, reordered or from "
                                         "another object)"));
        deliver(plain_.data(), body_size_);
        ++chunk_index_;
        if (final) {
            if (compression_ == kCompressionZstd && !frame_complete_)
                throw ArchiveError(
                    "corrupt compressed data: the zstd stream ends inside a frame (the object "
                    "was written by a faulty encoder)");
            state_ = State::done;
            unit_.clear();
        } else {
            expect(State::chunk_length, kLengthSize);
        }
    }

    // Hands authenticated chunk plaintext on, decompressing it when the object is compressed.
    void deliver(const unsigned char *data, size_t size) {
        if (size == 0) return;
        if (compression_ == kCompressionNone) {
            emit(data, size);
            return;
        }
        ZSTD_inBuffer in{data, size, 0};
        ZSTD_outBuffer out{zout_.data(), zout_.size(), 0};
        // Also loops while the output buffer came back full: zstd may hold more to flush even
        // after all input is consumed.
        do {
            const size_t in_before = in.pos;
            out.pos = 0;
            const size_t result = ZSTD_decompressStream(dctx_.get(), &out, &in);
            if (ZSTD_isError(result))
                throw ArchiveError("chunk " + std::to_string(chunk_index_) +
                                   ": corrupt compressed data (zstd: " + ZSTD_getErrorName(result) +
                                   ")");
            // A call that made no progress says nothing new about frame boundaries.
            if (in.pos != in_before || out.pos > 0) frame_complete_ = result == 0;
            emit(zout_.data(), out.pos);
        } while (in.pos < in.size || out.pos == out.size);
    }

    void emit(const unsigned char *data, size_t size) {
        if (size == 0) return;
        sha256_update(sha_.get(), data, size);
        plaintext_bytes_ += size;
        sink_(data, size);
    }

    ByteSink sink_;
    std::array<unsigned char, 32> wrap_key_;
    DigestCtx sha_;
    State state_ = State::header;
    std::vector<unsigned char> unit_;  // the header, a length or a chunk body being collected
    size_t unit_size_ = kObjectHeaderSize;
    unsigned char compression_ = kCompressionNone;
    size_t chunk_size_ = 0;
    size_t body_size_ = 0;
    CipherCtx cipher_;
    DecompressCtx dctx_;
    std::array<unsigned char, 8> nonce_prefix_{};
    std::array<unsigned char, 32> header_hash_{};
    std::array<unsigned char, 32> place_hash_{};
    bool bound_ = false;                // format 2 expected
    std::vector<unsigned char> plain_;  // decrypted chunk, used only once authenticated
    std::vector<unsigned char> zout_;
    bool frame_complete_ = true;  // no frame started yet counts as complete
    uint64_t chunk_index_ = 0;
    uint64_t plaintext_bytes_ = 0;
    std::string sha_hex_;
    std::string error_;
    bool finished_ = false;
    bool broken_ = false;
};

ObjectReader::ObjectReader(const BackupKey &key, ByteSink plaintext_sink,
                           std::optional<ObjectPlace> expected_place)
    : impl_(std::make_unique<Impl>(key, std::move(plaintext_sink), expected_place)) {}
ObjectReader::~ObjectReader() = default;
ObjectReader::ObjectReader(ObjectReader &&) noexcept = default;
ObjectReader &ObjectReader::operator=(ObjectReader &&) noexcept = default;

void ObjectReader::feed(const unsigned char *data, size_t size) {
    impl_->feed(data, size);
}
void ObjectReader::finish() {
    impl_->finish();
}
uint64_t ObjectReader::plaintext_bytes() const {
    return impl_->plaintext_bytes();
}
std::string ObjectReader::plaintext_sha256_hex() const {
    return impl_->plaintext_sha256_hex();
}

}  // namespace pgmig::archive
