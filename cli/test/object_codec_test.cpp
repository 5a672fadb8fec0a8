// A backed-up table is stored compressed and encrypted, and read back from pieces of any size.
// Any change to the stored bytes (a flipped bit, a cut, chunks moved, dropped, repeated or taken
// from another object) makes the restore fail with a clear error, and nothing unauthenticated
// is ever handed on as table data.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zstd.h>

#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "archive/object_codec.hpp"

namespace {

using pgmig::archive::ArchiveError;
using pgmig::archive::BackupKey;
using pgmig::archive::kDefaultChunkSize;
using pgmig::archive::kObjectHeaderSize;
using pgmig::archive::kStoreUncompressed;
using pgmig::archive::ObjectPlace;
using pgmig::archive::ObjectReader;
using pgmig::archive::ObjectWriter;

BackupKey make_key(uint32_t seed) {
    BackupKey key;
    std::mt19937 rng(seed);
    for (auto &b : key.bytes) b = static_cast<unsigned char>(rng());
    return key;
}

std::string random_data(size_t size, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::string data(size, '\0');
    for (size_t i = 0; i < size; i += 8) {
        const uint64_t v = rng();
        std::memcpy(data.data() + i, &v, std::min<size_t>(8, size - i));
    }
    return data;
}

// DynamoDB-export-like JSON lines: compresses well, like most table data.
std::string json_lines(size_t size) {
    std::string text;
    for (int i = 0; text.size() < size; ++i)
        text += "{\"id\":" + std::to_string(i) + ",\"email\":\"user" +
                std::to_string(i * 7919 % 10007) +
                "@example.com\",\"active\":" + (i % 3 ? "true" : "false") + "}\n";
    text.resize(size);
    return text;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[32];
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
    return pgmig::archive::hex_encode(digest, size);
}

struct Encoded {
    std::string stored;
    std::string sha_hex;
    uint64_t plaintext_bytes = 0;
    uint64_t stored_bytes = 0;
    size_t sink_calls = 0;
};

Encoded encode(const BackupKey &key, std::string_view plaintext, int level = 3,
               size_t chunk_size = kDefaultChunkSize, int workers = 0,
               size_t write_piece = SIZE_MAX) {
    Encoded e;
    ObjectWriter writer(
        key, level,
        [&](const unsigned char *data, size_t size) {
            e.stored.append(reinterpret_cast<const char *>(data), size);
            ++e.sink_calls;
        },
        chunk_size, workers);
    for (size_t at = 0; at < plaintext.size();) {
        const size_t take = std::min(write_piece, plaintext.size() - at);
        writer.write(plaintext.data() + at, take);
        at += take;
    }
    writer.finish();
    e.sha_hex = writer.plaintext_sha256_hex();
    e.plaintext_bytes = writer.plaintext_bytes();
    e.stored_bytes = writer.stored_bytes();
    return e;
}

enum class Feeding { whole, byte_at_a_time, random_pieces };

struct Decoded {
    std::string plaintext;  // everything the reader handed to its sink
    bool failed = false;
    std::string error;
    std::string sha_hex;
    uint64_t plaintext_bytes = 0;
};

Decoded decode(const BackupKey &key, std::string_view stored, Feeding feeding = Feeding::whole,
               uint32_t seed = 1) {
    Decoded d;
    ObjectReader reader(key, [&](const unsigned char *data, size_t size) {
        d.plaintext.append(reinterpret_cast<const char *>(data), size);
    });
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> piece(0, 700);
    try {
        const auto *bytes = reinterpret_cast<const unsigned char *>(stored.data());
        for (size_t at = 0; at < stored.size();) {
            size_t take = stored.size() - at;
            if (feeding == Feeding::byte_at_a_time) take = 1;
            if (feeding == Feeding::random_pieces) take = std::min(take, piece(rng));
            reader.feed(bytes + at, take);
            at += take;
        }
        reader.finish();
        d.sha_hex = reader.plaintext_sha256_hex();
    } catch (const ArchiveError &e) {
        d.failed = true;
        d.error = e.what();
    }
    d.plaintext_bytes = reader.plaintext_bytes();
    return d;
}

bool is_prefix(std::string_view prefix, std::string_view whole) {
    return prefix.size() <= whole.size() && whole.substr(0, prefix.size()) == prefix;
}

// Bytes the process holds from malloc right now (arenas and mmapped blocks), zstd's contexts
// included: shows that memory follows the chunk size and the zstd window, not the data.
size_t heap_in_use() {
    const struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

uint32_t le32(const char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(p[i]);
    return v;
}

std::string le32_bytes(uint32_t v) {
    std::string s(4, '\0');
    for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
}

// A stored object cut into its header and its chunk frames (length, ciphertext, tag).
struct Frames {
    std::string header;
    std::vector<std::string> chunks;

    std::string join() const {
        std::string all = header;
        for (const auto &c : chunks) all += c;
        return all;
    }
};

Frames split_frames(const std::string &stored) {
    Frames f;
    f.header = stored.substr(0, kObjectHeaderSize);
    size_t at = kObjectHeaderSize;
    while (at < stored.size()) {
        const size_t frame = 4 + le32(stored.data() + at) + 16;
        if (at + frame > stored.size()) throw std::runtime_error("frame runs past the end");
        f.chunks.push_back(stored.substr(at, frame));
        at += frame;
    }
    return f;
}

uint32_t frame_length(const std::string &frame) {
    return le32(frame.data());
}

// ---------------------------------------------------------------------------------------------
// An independent implementation of docs/archive-object-format.md, written against the document
// with OpenSSL and libzstd directly, so the document and the codec cannot drift apart.

std::string hmac_sha256(const BackupKey &key, std::string_view label) {
    unsigned char mac[32];
    unsigned int size = 0;
    HMAC(EVP_sha256(), key.bytes.data(), 32, reinterpret_cast<const unsigned char *>(label.data()),
         label.size(), mac, &size);
    return std::string(reinterpret_cast<char *>(mac), size);
}

std::string random_string(size_t size) {
    std::string s(size, '\0');
    RAND_bytes(reinterpret_cast<unsigned char *>(s.data()), static_cast<int>(size));
    return s;
}

std::string be_bytes(uint64_t v, int size) {
    std::string s(static_cast<size_t>(size), '\0');
    for (int i = 0; i < size; ++i) s[i] = static_cast<char>(v >> (8 * (size - 1 - i)));
    return s;
}

std::string sha256_raw(std::string_view data) {
    unsigned char digest[32];
    unsigned int size = 0;
    EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char *>(digest), size);
}

// AES-256-GCM with a 12-byte nonce: returns ciphertext || tag, or throws when decryption
// does not authenticate.
std::string gcm(bool encrypt, const std::string &key, const std::string &nonce,
                const std::string &aad, const std::string &input) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    const auto *k = reinterpret_cast<const unsigned char *>(key.data());
    const auto *n = reinterpret_cast<const unsigned char *>(nonce.data());
    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, k, n, encrypt ? 1 : 0);
    int len = 0;
    EVP_CipherUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(aad.data()),
                     static_cast<int>(aad.size()));
    const size_t body = encrypt ? input.size() : input.size() - 16;
    std::string out(body + 16, '\0');
    auto *o = reinterpret_cast<unsigned char *>(out.data());
    EVP_CipherUpdate(ctx, o, &len, reinterpret_cast<const unsigned char *>(input.data()),
                     static_cast<int>(body));
    if (!encrypt)
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<char *>(input.data() + body));
    const int ok = EVP_CipherFinal_ex(ctx, o + body, &len);
    if (encrypt) EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, o + body);
    EVP_CIPHER_CTX_free(ctx);
    if (ok != 1) throw std::runtime_error("GCM authentication failed");
    if (!encrypt) out.resize(body);
    return out;
}

struct SpecOptions {
    bool mark_last_final = true;  // a dishonest writer may "forget" the final flag
    bool mark_all_final = false;
    const ObjectPlace *place = nullptr;  // format 2: bound to this place
};

// Format 2: P = SHA-256("pgmig object place v2" || 0x00 || backup id || 0x00 || path).
std::string spec_place_hash(const ObjectPlace &place) {
    return sha256_raw(std::string("pgmig object place v2") + '\0' + place.backup_id + '\0' +
                      place.path);
}

std::string spec_encode(const BackupKey &kek, unsigned char compression, uint32_t chunk_size,
                        std::string_view stream, SpecOptions options = {}) {
    std::string header = "PGMIGOBJ";
    header += options.place ? '\x02' : '\x01';
    header += static_cast<char>(compression);
    header += le32_bytes(chunk_size);
    const std::string wrap_nonce = random_string(12);
    header += wrap_nonce;
    const std::string data_key = random_string(32);
    header += gcm(true, hmac_sha256(kek, "pgmig object key wrap v1"), wrap_nonce, header, data_key);
    const std::string prefix = random_string(8);
    header += prefix;
    const std::string header_hash = sha256_raw(header);

    // Full chunks, then a final chunk shorter than chunk_size (empty if nothing is left).
    std::vector<std::string_view> pieces;
    size_t at = 0;
    for (; stream.size() - at >= chunk_size; at += chunk_size)
        pieces.push_back(stream.substr(at, chunk_size));
    pieces.push_back(stream.substr(at));

    std::string object = header;
    for (size_t i = 0; i < pieces.size(); ++i) {
        const bool last = i + 1 == pieces.size();
        const bool flag = options.mark_all_final || (last && options.mark_last_final);
        std::string aad = header_hash + be_bytes(i, 8) + std::string(1, flag ? 1 : 0);
        if (options.place) aad += spec_place_hash(*options.place);
        object += le32_bytes(static_cast<uint32_t>(pieces[i].size()));
        object += gcm(true, data_key, prefix + be_bytes(i, 4), aad, std::string(pieces[i]));
    }
    return object;
}

std::string zstd_decompress_all(const std::string &stream) {
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    std::string out;
    std::vector<char> buffer(ZSTD_DStreamOutSize());
    ZSTD_inBuffer in{stream.data(), stream.size(), 0};
    size_t result = 0;
    while (in.pos < in.size) {
        ZSTD_outBuffer o{buffer.data(), buffer.size(), 0};
        result = ZSTD_decompressStream(dctx, &o, &in);
        if (ZSTD_isError(result)) break;
        out.append(buffer.data(), o.pos);
    }
    ZSTD_freeDCtx(dctx);
    if (ZSTD_isError(result) || result != 0) throw std::runtime_error("bad zstd stream");
    return out;
}

std::string spec_decode(const BackupKey &kek, const std::string &object,
                        const ObjectPlace *place = nullptr) {
    const std::string header = object.substr(0, 82);
    if (header.substr(0, 8) != "PGMIGOBJ" || header[8] != (place ? 2 : 1))
        throw std::runtime_error("bad header");
    const unsigned char compression = static_cast<unsigned char>(header[9]);
    const uint32_t chunk_size = le32(header.data() + 10);
    const std::string data_key =
        gcm(false, hmac_sha256(kek, "pgmig object key wrap v1"), header.substr(14, 12),
            header.substr(0, 26), header.substr(26, 48));
    const std::string prefix = header.substr(74, 8);
    const std::string header_hash = sha256_raw(header);
    std::string stream;
    size_t at = 82;
    for (uint64_t i = 0;; ++i) {
        const uint32_t length = le32(object.data() + at);
        const bool final = length < chunk_size;
        std::string aad = header_hash + be_bytes(i, 8) + std::string(1, final ? 1 : 0);
        if (place) aad += spec_place_hash(*place);
        stream +=
            gcm(false, data_key, prefix + be_bytes(i, 4), aad, object.substr(at + 4, length + 16));
        at += 4 + length + 16;
        if (final) break;
    }
    if (at != object.size()) throw std::runtime_error("bytes after the final chunk");
    return compression == 1 ? zstd_decompress_all(stream) : stream;
}

// ---------------------------------------------------------------------------------------------

TEST(ObjectRoundTrip, an_empty_object_round_trips_compressed_and_uncompressed) {
    const BackupKey key = make_key(1);
    for (int level : {3, kStoreUncompressed}) {
        const Encoded e = encode(key, "", level);
        const Decoded d = decode(key, e.stored);
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(d.plaintext, "");
        EXPECT_EQ(d.sha_hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        EXPECT_EQ(e.sha_hex, d.sha_hex);
    }
    // Uncompressed, an empty object is the header and one empty final chunk.
    EXPECT_EQ(encode(key, "", kStoreUncompressed).stored.size(), kObjectHeaderSize + 4 + 16);
}

TEST(ObjectRoundTrip, a_single_byte_round_trips) {
    const BackupKey key = make_key(2);
    for (int level : {1, 3, kStoreUncompressed}) {
        const Decoded d = decode(key, encode(key, "x", level, 64).stored);
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(d.plaintext, "x");
    }
}

TEST(ObjectRoundTrip, a_stream_of_exactly_one_chunk_is_followed_by_an_empty_final_chunk) {
    const BackupKey key = make_key(3);
    const std::string plaintext = random_data(64, 3);
    const Encoded e = encode(key, plaintext, kStoreUncompressed, 64);
    const Frames f = split_frames(e.stored);
    ASSERT_EQ(f.chunks.size(), 2u);
    EXPECT_EQ(frame_length(f.chunks[0]), 64u);
    EXPECT_EQ(frame_length(f.chunks[1]), 0u);
    const Decoded d = decode(key, e.stored, Feeding::byte_at_a_time);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectRoundTrip, plaintext_of_exactly_the_chunk_size_round_trips_compressed) {
    const BackupKey key = make_key(4);
    for (const std::string &plaintext : {random_data(64, 4), json_lines(64)}) {
        const Decoded d = decode(key, encode(key, plaintext, 3, 64).stored);
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(d.plaintext, plaintext);
    }
}

TEST(ObjectRoundTrip, many_small_chunks_round_trip_and_only_the_last_is_short) {
    const BackupKey key = make_key(5);
    const std::string plaintext = json_lines(50000) + random_data(5000, 5);
    const Encoded e = encode(key, plaintext, 3, 64);
    const Frames f = split_frames(e.stored);
    ASSERT_GT(f.chunks.size(), 100u);
    for (size_t i = 0; i + 1 < f.chunks.size(); ++i)
        ASSERT_EQ(frame_length(f.chunks[i]), 64u) << "chunk " << i;
    EXPECT_LT(frame_length(f.chunks.back()), 64u);
    const Decoded d = decode(key, e.stored);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectRoundTrip, incompressible_random_data_round_trips_across_chunks) {
    const BackupKey key = make_key(6);
    const std::string plaintext = random_data(kDefaultChunkSize * 3 / 2 + 7, 6);
    const Encoded e = encode(key, plaintext, 3);
    EXPECT_GT(e.stored.size(), plaintext.size());
    EXPECT_EQ(split_frames(e.stored).chunks.size(), 2u);
    const Decoded d = decode(key, e.stored, Feeding::random_pieces);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectRoundTrip, compressible_data_round_trips_and_is_stored_smaller) {
    const BackupKey key = make_key(7);
    const std::string plaintext = json_lines(1 << 20);
    const Encoded e = encode(key, plaintext, 3);
    EXPECT_LT(e.stored.size(), plaintext.size() / 3);
    const Decoded d = decode(key, e.stored);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectRoundTrip, round_trips_at_zstd_levels_1_3_and_19) {
    const BackupKey key = make_key(8);
    const std::string plaintext = json_lines(150000) + random_data(30000, 8) + json_lines(20000);
    for (int level : {1, 3, 19}) {
        const Decoded d = decode(key, encode(key, plaintext, level, 4096).stored);
        ASSERT_FALSE(d.failed) << "level " << level << ": " << d.error;
        EXPECT_EQ(d.plaintext, plaintext) << "level " << level;
    }
}

TEST(ObjectRoundTrip, round_trips_with_two_zstd_worker_threads) {
    const BackupKey key = make_key(9);
    const std::string plaintext = json_lines(3 << 20) + random_data(1 << 20, 9);
    const Encoded e = encode(key, plaintext, 3, 64 << 10, 2, 100000);
    const Decoded d = decode(key, e.stored);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectRoundTrip, stores_uncompressed_when_asked_without_revealing_the_plaintext) {
    const BackupKey key = make_key(10);
    std::string plaintext;
    for (int i = 0; i < 100; ++i) plaintext += "secret-marker-" + std::to_string(i) + ";";
    const Encoded e = encode(key, plaintext, kStoreUncompressed, 100);
    EXPECT_EQ(e.stored.find("secret-marker"), std::string::npos);
    EXPECT_EQ(e.stored.size(),
              kObjectHeaderSize + plaintext.size() + 20 * (plaintext.size() / 100 + 1));
    const Decoded d = decode(key, e.stored, Feeding::random_pieces);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectReaderFeeding, accepts_the_object_one_byte_at_a_time) {
    const BackupKey key = make_key(11);
    const std::string plaintext = json_lines(20000) + random_data(3000, 11);
    for (int level : {3, kStoreUncompressed}) {
        const Decoded d =
            decode(key, encode(key, plaintext, level, 256).stored, Feeding::byte_at_a_time);
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(d.plaintext, plaintext);
    }
}

TEST(ObjectReaderFeeding, accepts_pieces_of_random_sizes_including_empty_ones) {
    const BackupKey key = make_key(12);
    const std::string plaintext = json_lines(40000) + random_data(10000, 12);
    const Encoded e = encode(key, plaintext, 3, 300);
    for (uint32_t seed = 1; seed <= 10; ++seed) {
        const Decoded d = decode(key, e.stored, Feeding::random_pieces, seed);
        ASSERT_FALSE(d.failed) << "seed " << seed << ": " << d.error;
        EXPECT_EQ(d.plaintext, plaintext) << "seed " << seed;
    }
}

TEST(ObjectWriterStreaming, accepts_one_byte_writes) {
    const BackupKey key = make_key(13);
    const std::string plaintext = json_lines(5000);
    const Decoded d = decode(key, encode(key, plaintext, 3, 128, 0, 1).stored);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectWriterStreaming, reports_sizes_and_a_plaintext_sha256_that_openssl_agrees_with) {
    const BackupKey key = make_key(14);
    const std::string plaintext = json_lines(300000) + random_data(70000, 14);
    const Encoded e = encode(key, plaintext, 3, 4096, 0, 777);
    EXPECT_EQ(e.sha_hex, sha256_hex(plaintext));
    EXPECT_EQ(e.plaintext_bytes, plaintext.size());
    EXPECT_EQ(e.stored_bytes, e.stored.size());
    const Decoded d = decode(key, e.stored, Feeding::random_pieces);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.sha_hex, sha256_hex(plaintext));
    EXPECT_EQ(d.plaintext_bytes, plaintext.size());
}

TEST(ObjectWriterStreaming, encrypts_the_same_plaintext_differently_each_time) {
    const BackupKey key = make_key(15);
    const std::string plaintext = json_lines(1000);
    const Encoded a = encode(key, plaintext), b = encode(key, plaintext);
    EXPECT_EQ(a.stored.size(), b.stored.size());
    EXPECT_NE(a.stored.substr(kObjectHeaderSize), b.stored.substr(kObjectHeaderSize));
    EXPECT_NE(a.stored.substr(14, 12), b.stored.substr(14, 12)) << "wrap nonce repeated";
    EXPECT_NE(a.stored.substr(74, 8), b.stored.substr(74, 8)) << "nonce prefix repeated";
}

TEST(ObjectWriterStreaming, hands_the_sink_large_pieces_not_one_per_write) {
    const BackupKey key = make_key(16);
    const std::string plaintext = random_data(3 << 20, 16);
    std::vector<size_t> pieces;
    for (size_t chunk_size : {kDefaultChunkSize, size_t{64}}) {
        pieces.clear();
        ObjectWriter writer(
            key, 1, [&](const unsigned char *, size_t size) { pieces.push_back(size); },
            chunk_size);
        for (size_t at = 0; at < plaintext.size(); at += 1000)
            writer.write(plaintext.data() + at, std::min<size_t>(1000, plaintext.size() - at));
        writer.finish();
        // 3 MiB in 3146 writes: a few large pieces, each at most one sink piece plus one frame.
        EXPECT_GE(pieces.size(), 3u) << "chunk size " << chunk_size;
        EXPECT_LE(pieces.size(), 20u) << "chunk size " << chunk_size;
        const size_t largest =
            std::max(size_t{256} << 10, chunk_size) + chunk_size + 4 + 16 + kObjectHeaderSize;
        for (size_t i = 0; i < pieces.size(); ++i) {
            if (i + 1 < pieces.size()) {
                EXPECT_GE(pieces[i], size_t{256} << 10)
                    << "piece " << i << ", chunk " << chunk_size;
            }
            EXPECT_LE(pieces[i], largest) << "piece " << i << ", chunk " << chunk_size;
        }
    }
}

TEST(ObjectWriterStreaming, memory_does_not_grow_with_the_object_size) {
    const BackupKey key = make_key(17);
    std::mt19937_64 rng(17);
    std::vector<unsigned char> block(64 << 10);
    const size_t baseline = heap_in_use();
    size_t peak = 0;
    uint64_t delivered = 0;
    ObjectReader reader(key, [&](const unsigned char *, size_t size) {
        delivered += size;
        peak = std::max(peak, heap_in_use());
    });
    {
        ObjectWriter writer(
            key, 1,
            [&](const unsigned char *data, size_t size) {
                peak = std::max(peak, heap_in_use());
                reader.feed(data, size);
            },
            64 << 10);
        for (int i = 0; i < 512; ++i) {  // 32 MiB
            for (size_t j = 0; j < block.size(); j += 8) {
                const uint64_t v = rng();
                std::memcpy(block.data() + j, &v, 8);
            }
            writer.write(block.data(), block.size());
        }
        writer.finish();
        reader.finish();
        EXPECT_EQ(reader.plaintext_sha256_hex(), writer.plaintext_sha256_hex());
    }
    EXPECT_EQ(delivered, uint64_t{32} << 20);
    EXPECT_LT(peak - std::min(peak, baseline), size_t{8} << 20);
}

TEST(ObjectWriterStreaming, refuses_a_chunk_size_of_zero_or_above_64_mib) {
    const BackupKey key = make_key(18);
    auto sink = [](const unsigned char *, size_t) {};
    EXPECT_THROW(ObjectWriter(key, 3, sink, 0), ArchiveError);
    EXPECT_THROW(ObjectWriter(key, 3, sink, (size_t{64} << 20) + 1), ArchiveError);
    EXPECT_NO_THROW(ObjectWriter(key, 3, sink, 1));
}

TEST(ObjectWriterStreaming, treats_use_after_finish_as_a_programming_error) {
    const BackupKey key = make_key(19);
    ObjectWriter writer(key, 3, [](const unsigned char *, size_t) {});
    EXPECT_THROW(writer.plaintext_sha256_hex(), std::logic_error);
    writer.finish();
    EXPECT_THROW(writer.write("x", 1), std::logic_error);
    EXPECT_THROW(writer.finish(), std::logic_error);
}

// ---------------------------------------------------------------------------------------------

// ~300 stored bytes in several chunks: small enough to flip every bit of it.
Encoded small_object(const BackupKey &key, int level) {
    return encode(key, json_lines(level == kStoreUncompressed ? 140 : 400), level, 40);
}

TEST(ObjectTamper, flipping_any_single_bit_of_a_stored_object_is_detected) {
    const BackupKey key = make_key(20);
    for (int level : {3, kStoreUncompressed}) {
        const std::string plaintext = json_lines(level == kStoreUncompressed ? 140 : 400);
        const Encoded e = small_object(key, level);
        ASSERT_GE(e.stored.size(), 100u);
        ASSERT_LE(e.stored.size(), 400u);
        ASSERT_GE(split_frames(e.stored).chunks.size(), 3u);
        ASSERT_FALSE(decode(key, e.stored).failed);
        size_t undetected = 0, leaked = 0;
        for (size_t bit = 0; bit < e.stored.size() * 8; ++bit) {
            std::string tampered = e.stored;
            tampered[bit / 8] = static_cast<char>(tampered[bit / 8] ^ (1 << (bit % 8)));
            for (Feeding feeding : {Feeding::whole, Feeding::byte_at_a_time}) {
                const Decoded d = decode(key, tampered, feeding);
                if (!d.failed && ++undetected <= 5)
                    ADD_FAILURE() << "flip of bit " << bit << " (byte " << bit / 8
                                  << ") was not detected";
                if (!is_prefix(d.plaintext, plaintext) && ++leaked <= 5)
                    ADD_FAILURE() << "flip of bit " << bit << " delivered altered plaintext";
            }
        }
        EXPECT_EQ(undetected, 0u) << "level " << level;
        EXPECT_EQ(leaked, 0u) << "level " << level;
    }
}

TEST(ObjectTamper, cutting_the_object_at_any_byte_is_detected) {
    const BackupKey key = make_key(21);
    const std::string plaintext = json_lines(400);
    const Encoded e = small_object(key, 3);
    for (size_t length = 0; length < e.stored.size(); ++length) {
        const Decoded d = decode(key, std::string_view(e.stored).substr(0, length));
        EXPECT_TRUE(d.failed) << "cut to " << length << " bytes";
        EXPECT_TRUE(is_prefix(d.plaintext, plaintext)) << "cut to " << length << " bytes";
    }
}

TEST(ObjectTamper, cutting_the_object_after_a_whole_chunk_names_the_missing_final_chunk) {
    const BackupKey key = make_key(22);
    Frames f = split_frames(small_object(key, 3).stored);
    f.chunks.resize(2);
    const Decoded d = decode(key, f.join());
    EXPECT_TRUE(d.failed);
    EXPECT_EQ(d.error, "object is truncated: no final chunk after 2 chunks");
}

TEST(ObjectTamper, swapping_two_chunks_is_detected) {
    const BackupKey key = make_key(23);
    Frames f = split_frames(small_object(key, 3).stored);
    std::swap(f.chunks[1], f.chunks[2]);
    const Decoded d = decode(key, f.join());
    EXPECT_EQ(d.error,
              "chunk 1 failed authentication (tampered, reordered or from another object)");
}

TEST(ObjectTamper, dropping_a_middle_chunk_is_detected) {
    const BackupKey key = make_key(24);
    Frames f = split_frames(small_object(key, 3).stored);
    f.chunks.erase(f.chunks.begin() + 1);
    const Decoded d = decode(key, f.join());
    EXPECT_EQ(d.error,
              "chunk 1 failed authentication (tampered, reordered or from another object)");
}

TEST(ObjectTamper, duplicating_a_chunk_is_detected) {
    const BackupKey key = make_key(25);
    const std::string plaintext = json_lines(400);
    Frames f = split_frames(small_object(key, 3).stored);
    f.chunks.insert(f.chunks.begin() + 1, f.chunks[1]);
    const Decoded d = decode(key, f.join());
    EXPECT_EQ(d.error,
              "chunk 2 failed authentication (tampered, reordered or from another object)");
    EXPECT_TRUE(is_prefix(d.plaintext, plaintext));
}

TEST(ObjectTamper, anything_appended_after_the_final_chunk_is_detected) {
    const BackupKey key = make_key(26);
    const Encoded e = small_object(key, 3);
    const Frames f = split_frames(e.stored);
    for (const std::string &extra : {std::string(1, '\0'), f.chunks[0], f.chunks.back()}) {
        const Decoded d = decode(key, e.stored + extra);
        EXPECT_TRUE(d.failed);
        EXPECT_EQ(d.error.rfind("data after the final chunk", 0), 0u) << d.error;
    }
}

TEST(ObjectTamper, a_chunk_spliced_from_another_object_with_the_same_key_is_detected) {
    const BackupKey key = make_key(27);
    const Frames a = split_frames(small_object(key, 3).stored);
    const Frames b = split_frames(small_object(key, 3).stored);
    ASSERT_EQ(a.chunks.size(), b.chunks.size());
    for (size_t i = 0; i < a.chunks.size(); ++i) {
        Frames spliced = a;
        spliced.chunks[i] = b.chunks[i];
        const Decoded d = decode(key, spliced.join());
        EXPECT_EQ(d.error, "chunk " + std::to_string(i) +
                               " failed authentication (tampered, reordered or from another "
                               "object)");
    }
    Frames other_header = a;
    other_header.header = b.header;
    EXPECT_TRUE(decode(key, other_header.join()).failed);
}

// ---------------------------------------------------------------------------------------------

TEST(ObjectReaderErrors, another_key_is_reported_as_the_wrong_key) {
    const Encoded e = encode(make_key(30), json_lines(1000));
    const Decoded d = decode(make_key(31), e.stored);
    EXPECT_TRUE(d.failed);
    EXPECT_EQ(d.error.rfind("wrong key: the object's data key does not authenticate under this "
                            "key",
                            0),
              0u)
        << d.error;
    EXPECT_EQ(d.plaintext, "");
}

TEST(ObjectReaderErrors, a_file_that_is_not_an_object_fails_on_its_first_bytes) {
    ObjectReader reader(make_key(32), [](const unsigned char *, size_t) {});
    const unsigned char gzip[] = {0x1f, 0x8b, 0x08, 0x00};
    try {
        reader.feed(gzip, 1);
        FAIL() << "a gzip file was not rejected";
    } catch (const ArchiveError &e) {
        EXPECT_STREQ(e.what(), "not a pgmig object (bad magic)");
    }
    const Decoded d = decode(make_key(32), "PGMIGOBX" + std::string(200, '\0'));
    EXPECT_EQ(d.error, "not a pgmig object (bad magic)");
}

TEST(ObjectReaderErrors, a_newer_format_version_is_named) {
    const BackupKey key = make_key(33);
    std::string stored = encode(key, "data").stored;
    stored[8] = 3;
    EXPECT_EQ(decode(key, stored).error.rfind("unsupported object format version 3", 0), 0u);
}

TEST(ObjectReaderErrors, an_unknown_compression_is_named) {
    const BackupKey key = make_key(34);
    std::string stored = encode(key, "data").stored;
    stored[9] = 7;
    EXPECT_EQ(decode(key, stored).error.rfind("unsupported compression id 7", 0), 0u);
}

TEST(ObjectReaderErrors, a_hostile_chunk_length_is_refused_before_anything_is_allocated_for_it) {
    const BackupKey key = make_key(35);
    std::string stored = encode(key, json_lines(5000)).stored;
    stored.replace(kObjectHeaderSize, 4, le32_bytes(0xffffffffu));
    const size_t baseline = heap_in_use();
    ObjectReader reader(key, [](const unsigned char *, size_t) {});
    try {
        // Only the header and the length: the reader must not wait for (or reserve) 4 GiB.
        reader.feed(reinterpret_cast<const unsigned char *>(stored.data()), kObjectHeaderSize + 4);
        FAIL() << "the hostile length was accepted";
    } catch (const ArchiveError &e) {
        EXPECT_STREQ(e.what(),
                     "chunk 0 declares length 4294967295 above the limit 1048576 (the object's "
                     "chunk size)");
    }
    // The reader holds one chunk (1 MiB here) and a zstd context, nothing sized by the length.
    EXPECT_LT(heap_in_use() - std::min(heap_in_use(), baseline), size_t{4} << 20);

    // The limit is exact: one byte over the chunk size is already refused.
    Frames f = split_frames(encode(key, json_lines(5000), 3, 64).stored);
    f.chunks[1].replace(0, 4, le32_bytes(65));
    EXPECT_EQ(decode(key, f.join()).error.rfind("chunk 1 declares length 65 above the limit 64", 0),
              0u);
}

TEST(ObjectReaderErrors, a_hostile_chunk_size_in_the_header_is_refused) {
    const BackupKey key = make_key(36);
    for (uint32_t chunk_size : {0u, 0xffffffffu, (64u << 20) + 1}) {
        std::string stored = encode(key, "data").stored;
        stored.replace(10, 4, le32_bytes(chunk_size));
        const Decoded d = decode(key, stored);
        EXPECT_EQ(
            d.error.rfind("object header declares chunk size " + std::to_string(chunk_size), 0), 0u)
            << d.error;
    }
}

TEST(ObjectReaderErrors, an_empty_or_header_only_input_is_truncated) {
    const BackupKey key = make_key(37);
    EXPECT_EQ(decode(key, "").error, "object is empty: not even a header");
    const std::string stored = encode(key, "data").stored;
    EXPECT_EQ(decode(key, stored.substr(0, 50)).error,
              "object is truncated: header incomplete (50 of 82 bytes)");
    EXPECT_EQ(decode(key, stored.substr(0, kObjectHeaderSize)).error,
              "object is truncated: no final chunk after 0 chunks");
}

TEST(ObjectReaderErrors, after_an_error_every_further_call_fails) {
    const BackupKey key = make_key(38);
    const std::string stored = encode(key, "data").stored;
    std::string tampered = stored;
    tampered.back() = static_cast<char>(tampered.back() ^ 1);
    ObjectReader reader(key, [](const unsigned char *, size_t) {});
    const auto *bytes = reinterpret_cast<const unsigned char *>(tampered.data());
    EXPECT_THROW(reader.feed(bytes, tampered.size()), ArchiveError);
    EXPECT_THROW(reader.feed(bytes, 0), ArchiveError);
    EXPECT_THROW(reader.finish(), ArchiveError);
    EXPECT_THROW(reader.plaintext_sha256_hex(), std::logic_error);
}

// ---------------------------------------------------------------------------------------------

TEST(ObjectFormat, the_writers_output_decodes_by_the_format_document) {
    const BackupKey key = make_key(40);
    const std::string plaintext = json_lines(20000) + random_data(2000, 40);
    for (int level : {3, kStoreUncompressed})
        for (size_t chunk_size : {size_t{64}, size_t{1000}, kDefaultChunkSize})
            EXPECT_EQ(spec_decode(key, encode(key, plaintext, level, chunk_size).stored), plaintext)
                << "level " << level << ", chunk size " << chunk_size;
    EXPECT_EQ(spec_decode(key, encode(key, "", 3).stored), "");
}

TEST(ObjectFormat, an_object_built_from_the_format_document_is_read) {
    const BackupKey key = make_key(41);
    const std::string plaintext = json_lines(10000);
    std::string frame(ZSTD_compressBound(plaintext.size()), '\0');
    frame.resize(ZSTD_compress(frame.data(), frame.size(), plaintext.data(), plaintext.size(), 5));
    for (uint32_t chunk_size : {1u, 100u, static_cast<uint32_t>(frame.size())}) {
        const Decoded d =
            decode(key, spec_encode(key, 1, chunk_size, frame), Feeding::random_pieces);
        ASSERT_FALSE(d.failed) << d.error;
        EXPECT_EQ(d.plaintext, plaintext);
    }
    // A stream of two zstd frames is one object.
    const Decoded two = decode(key, spec_encode(key, 1, 100, frame + frame));
    ASSERT_FALSE(two.failed) << two.error;
    EXPECT_EQ(two.plaintext, plaintext + plaintext);
    const Decoded raw = decode(key, spec_encode(key, 0, 100, plaintext));
    ASSERT_FALSE(raw.failed) << raw.error;
    EXPECT_EQ(raw.plaintext, plaintext);
}

TEST(ObjectFormat, a_last_chunk_not_marked_final_or_an_early_chunk_marked_final_is_rejected) {
    const BackupKey key = make_key(42);
    const std::string plaintext = json_lines(1000);
    SpecOptions unmarked;
    unmarked.mark_last_final = false;
    EXPECT_EQ(decode(key, spec_encode(key, 0, 100, plaintext, unmarked)).error,
              "chunk 10 failed authentication (tampered, reordered or from another object)");
    SpecOptions all_final;
    all_final.mark_all_final = true;
    EXPECT_EQ(decode(key, spec_encode(key, 0, 100, plaintext, all_final)).error,
              "chunk 0 failed authentication (tampered, reordered or from another object)");
}

TEST(ObjectFormat, authentic_but_corrupt_zstd_data_is_reported_as_corrupt) {
    const BackupKey key = make_key(43);
    const Decoded d = decode(key, spec_encode(key, 1, 64, "this is not a zstd frame at all"));
    EXPECT_EQ(d.error.rfind("chunk 0: corrupt compressed data (zstd: ", 0), 0u) << d.error;
}

TEST(ObjectFormat, an_authentic_stream_that_ends_inside_a_zstd_frame_is_reported) {
    const BackupKey key = make_key(44);
    const std::string plaintext = json_lines(10000);
    std::string frame(ZSTD_compressBound(plaintext.size()), '\0');
    frame.resize(ZSTD_compress(frame.data(), frame.size(), plaintext.data(), plaintext.size(), 3));
    frame.resize(frame.size() - 3);
    const Decoded d = decode(key, spec_encode(key, 1, 64, frame));
    EXPECT_EQ(d.error.rfind("corrupt compressed data: the zstd stream ends inside a frame", 0), 0u)
        << d.error;
}

TEST(ObjectFormat, a_zstd_frame_asking_for_a_2_gib_window_is_refused) {
    // Frame header by hand (RFC 8878): magic, descriptor 0 (no content size, not single
    // segment), window descriptor exponent 21 (2^31), then one raw last block of 1 byte.
    const std::string frame("\x28\xb5\x2f\xfd\x00\xa8\x09\x00\x00x", 10);
    const BackupKey key = make_key(45);
    const Decoded d = decode(key, spec_encode(key, 1, 64, frame));
    EXPECT_EQ(d.error.rfind("chunk 0: corrupt compressed data (zstd: ", 0), 0u) << d.error;
    EXPECT_EQ(d.plaintext, "");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Format 2: every chunk is bound to the object's place (backup id and path), so a validly
// encrypted object of another table or backup, under the same key, fails at its first chunk.

std::string encode_at(const BackupKey &key, std::string_view plaintext, const ObjectPlace &place,
                      size_t chunk_size = kDefaultChunkSize) {
    std::string stored;
    ObjectWriter writer(
        key, 3,
        [&](const unsigned char *data, size_t size) {
            stored.append(reinterpret_cast<const char *>(data), size);
        },
        chunk_size, 0, place);
    writer.write(plaintext.data(), plaintext.size());
    writer.finish();
    return stored;
}

Decoded decode_at(const BackupKey &key, std::string_view stored,
                  const std::optional<ObjectPlace> &place) {
    Decoded d;
    ObjectReader reader(
        key,
        [&](const unsigned char *data, size_t size) {
            d.plaintext.append(reinterpret_cast<const char *>(data), size);
        },
        place);
    try {
        reader.feed(reinterpret_cast<const unsigned char *>(stored.data()), stored.size());
        reader.finish();
        d.sha_hex = reader.plaintext_sha256_hex();
    } catch (const ArchiveError &e) {
        d.failed = true;
        d.error = e.what();
    }
    return d;
}

const ObjectPlace kUsers{"20261122T035900Z-1a2b3c", "pg/0001.obj"};
const ObjectPlace kOrders{"20261122T035900Z-1a2b3c", "pg/0002.obj"};
const ObjectPlace kUsersLastWeek{"20261115T035900Z-0f0f0f", "pg/0001.obj"};

TEST(ObjectPlaceBinding, a_bound_object_round_trips_at_its_place) {
    const BackupKey key = make_key(60);
    const std::string plaintext = json_lines(5000);
    const std::string stored = encode_at(key, plaintext, kUsers, 1000);
    EXPECT_EQ(static_cast<unsigned char>(stored[8]), 2u);
    const Decoded d = decode_at(key, stored, kUsers);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}

TEST(ObjectPlaceBinding, an_object_of_another_table_or_backup_fails_at_its_first_chunk) {
    const BackupKey key = make_key(61);
    const std::string orders = encode_at(key, json_lines(5000), kOrders, 1000);
    const std::string last_week = encode_at(key, json_lines(5000), kUsersLastWeek, 1000);
    for (const std::string *substitute : {&orders, &last_week}) {
        const Decoded d = decode_at(key, *substitute, kUsers);
        EXPECT_EQ(d.error.rfind("chunk 0 failed authentication", 0), 0u) << d.error;
        EXPECT_NE(d.error.find("of another table or backup"), std::string::npos) << d.error;
        EXPECT_EQ(d.plaintext, "") << "nothing from a substituted object reaches the sink";
    }
}

TEST(ObjectPlaceBinding, an_unbound_format_1_object_cannot_stand_in_for_a_bound_one) {
    const BackupKey key = make_key(62);
    const Encoded old = encode(key, json_lines(3000));
    const Decoded d = decode_at(key, old.stored, kUsers);
    EXPECT_EQ(d.error.rfind("object is format 1 (not bound to its place)", 0), 0u) << d.error;
    EXPECT_EQ(d.plaintext, "");
    // Setting the version byte to 2 only makes the wrap tag (which covers it) fail.
    std::string forged = old.stored;
    forged[8] = 2;
    EXPECT_EQ(decode_at(key, forged, kUsers).error.rfind("wrong key", 0), 0u);
}

TEST(ObjectPlaceBinding, a_bound_object_is_not_read_as_an_unbound_one_and_old_ones_still_are) {
    const BackupKey key = make_key(63);
    const Decoded bound = decode_at(key, encode_at(key, "data", kUsers), std::nullopt);
    EXPECT_EQ(bound.error.rfind("object is format 2 (bound to its place in a backup)", 0), 0u)
        << bound.error;
    const Decoded old = decode_at(key, encode(key, "data").stored, std::nullopt);
    ASSERT_FALSE(old.failed) << old.error;
    EXPECT_EQ(old.plaintext, "data");
}

TEST(ObjectPlaceBinding, the_format_document_and_the_codec_agree_on_bound_objects) {
    const BackupKey key = make_key(64);
    const std::string plaintext = json_lines(4000);
    EXPECT_EQ(spec_decode(key, encode_at(key, plaintext, kOrders, 100), &kOrders), plaintext);
    EXPECT_THROW(spec_decode(key, encode_at(key, plaintext, kOrders, 100), &kUsers),
                 std::runtime_error);
    SpecOptions bound;
    bound.place = &kOrders;
    const Decoded d = decode_at(key, spec_encode(key, 0, 100, plaintext, bound), kOrders);
    ASSERT_FALSE(d.failed) << d.error;
    EXPECT_EQ(d.plaintext, plaintext);
}
