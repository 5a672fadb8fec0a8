// The backup manifest: sealed with the backup key, and parsed as hostile input.
#include <gtest/gtest.h>

#include "archive/manifest.hpp"

using namespace pgmig::archive;

namespace {

BackupKey key_of(unsigned char fill) {
    BackupKey k;
    k.bytes.fill(fill);
    return k;
}

Manifest sample() {
    Manifest m;
    m.backup_id = "20261122T035900Z-1a2b3c";
    m.created_at = "2026-11-22T03:59:00Z";
    m.finished_at = "2026-11-22T03:59:05Z";
    m.tool_version = "pgmig 0.1.0";
    m.label = "nightly";
    m.key_id = key_id(key_of(7));
    PgSource pg;
    pg.server_version = "15.20";
    pg.database = "app";
    pg.schema_version = "20261122090000";
    pg.client_encoding = "UTF8";
    PgTable t;
    t.schema = "public";
    t.name = "users";
    t.columns = {{"id", "bigint"}, {"email", "text"}};
    t.sequences = {{"public.users_id_seq", "id", 42, true}};
    t.rows = 42;
    t.object = {"pg/0001.obj", 1000, std::string(64, 'a'), 400};
    pg.tables.push_back(t);
    m.postgres = pg;
    return m;
}

void expect_rejected(const nlohmann::json &body, const std::string &needle) {
    try {
        manifest_from_json(body);
        ADD_FAILURE() << "accepted: " << body.dump();
    } catch (const ArchiveError &e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(Manifest, round_trips_through_seal_and_authenticate) {
    const std::string sealed = seal_manifest(sample(), key_of(7));
    const Manifest back = authenticate_manifest(open_manifest_envelope(sealed), key_of(7));
    EXPECT_EQ(manifest_to_json(back), manifest_to_json(sample()));
    EXPECT_EQ(back.total_rows(), 42u);
    EXPECT_EQ(back.total_stored_bytes(), 400u);
}

TEST(Manifest, a_changed_byte_fails_authentication) {
    std::string sealed = seal_manifest(sample(), key_of(7));
    const size_t at = sealed.find("\"rows\": 42");
    ASSERT_NE(at, std::string::npos);
    sealed.replace(at, 10, "\"rows\": 43");
    try {
        authenticate_manifest(open_manifest_envelope(sealed), key_of(7));
        FAIL() << "a changed row count was accepted";
    } catch (const ArchiveError &e) {
        EXPECT_NE(std::string(e.what()).find("failed authentication"), std::string::npos);
    }
}

TEST(Manifest, another_key_is_named_wrong_key_with_both_ids) {
    const std::string sealed = seal_manifest(sample(), key_of(7));
    try {
        authenticate_manifest(open_manifest_envelope(sealed), key_of(8));
        FAIL();
    } catch (const ArchiveError &e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("wrong key"), std::string::npos);
        EXPECT_NE(msg.find(key_id(key_of(7))), std::string::npos);
        EXPECT_NE(msg.find(key_id(key_of(8))), std::string::npos);
    }
}

TEST(Manifest, hostile_fields_are_rejected_by_name) {
    auto body = manifest_to_json(sample());
    auto with = [&body](const std::function<void(nlohmann::json &)> &change) {
        nlohmann::json j = body;
        change(j);
        return j;
    };
    expect_rejected(with([](auto &j) { j["postgres"]["tables"][0]["rows"] = -1; }),
                    "postgres.tables[0].rows must be a non-negative integer");
    expect_rejected(with([](auto &j) { j["postgres"]["tables"][0]["rows"] = "42"; }),
                    "postgres.tables[0].rows");
    expect_rejected(
        with([](auto &j) { j["postgres"]["tables"][0]["object"]["path"] = "../../etc/passwd"; }),
        "postgres.tables[0].object.path is not a valid object path");
    expect_rejected(with([](auto &j) { j["postgres"]["tables"][0]["object"]["path"] = "/abs"; }),
                    "object.path");
    expect_rejected(
        with([](auto &j) { j["postgres"]["tables"][0]["object"]["plaintext_sha256"] = "xyz"; }),
        "plaintext_sha256 must be 64 hex digits");
    expect_rejected(with([](auto &j) { j["backup_id"] = "../x"; }), "backup_id is not a backup id");
    expect_rejected(with([](auto &j) { j.erase("encryption"); }), "encryption is missing");
    expect_rejected(with([](auto &j) { j["encryption"]["cipher"] = "AES-128-CBC"; }),
                    "encryption.cipher");
    expect_rejected(with([](auto &j) { j["format_version"] = 3; }),
                    "format version 3 is not supported");
    expect_rejected(with([](auto &j) { j["format_version"] = 0; }),
                    "format version 0 is not supported");
    expect_rejected(with([](auto &j) { j["postgres"].erase("client_encoding"); }),
                    "postgres.client_encoding is missing");
    expect_rejected(with([](auto &j) { j["postgres"]["client_encoding"] = "UTF8'; DROP"; }),
                    "postgres.client_encoding is not an encoding name");
    expect_rejected(with([](auto &j) { j["format"] = "other"; }), "format");
    expect_rejected(with([](auto &j) { j["postgres"]["tables"] = "all"; }),
                    "postgres.tables must be an array");
    expect_rejected(with([](auto &j) { j["postgres"]["tables"][0]["columns"][0] = 5; }),
                    "columns[0] must be an object");
    expect_rejected(with([](auto &j) { j["label"] = std::string(5000, 'x'); }), "label is longer");
    expect_rejected(nlohmann::json::array(), "must be an object");
    expect_rejected(
        with([](auto &j) {
            j["encryption"]["kdf"] = {
                {"algorithm", "scrypt"}, {"n", 1 << 20}, {"r", 8}, {"p", 1024}, {"salt_hex", "00"}};
        }),
        "more scrypt work than pgmig allows");
    expect_rejected(with([](auto &j) { j["format_version"] = 4294967297LL; }),
                    "format version 4294967297 is not supported");
    expect_rejected(with([](auto &j) {
                        auto t = j["postgres"]["tables"][0];
                        t["name"] = "other";
                        j["postgres"]["tables"].push_back(t);
                    }),
                    "name the same object twice");
}

TEST(ManifestEnvelope, rejects_text_that_is_not_a_sealed_manifest) {
    for (const char *text : {"", "{", "[]", "{\"mac\": \"00\"}", "{\"manifest\": 1, \"mac\": \"\"}",
                             "{\"manifest\": {}, \"mac\": 5}"})
        EXPECT_THROW(open_manifest_envelope(text), ArchiveError) << text;
}

TEST(ManifestEnvelope, exposes_the_kdf_salt_before_authentication) {
    Manifest m = sample();
    KdfParams kdf;
    kdf.salt_hex = "00112233445566778899aabbccddeeff";
    m.kdf = kdf;
    const auto env = open_manifest_envelope(seal_manifest(m, key_of(7)));
    ASSERT_TRUE(env.kdf.has_value());
    EXPECT_EQ(env.kdf->salt_hex, kdf.salt_hex);
    EXPECT_EQ(env.key_id, key_id(key_of(7)));
}

TEST(BackupId, is_a_utc_time_and_six_hex_digits) {
    EXPECT_TRUE(is_backup_id("20261122T035900Z-1a2b3c"));
    EXPECT_FALSE(is_backup_id("20261122T035900Z-1A2B3C"));
    EXPECT_FALSE(is_backup_id("20261122T035900Z-1a2b3"));
    EXPECT_FALSE(is_backup_id("2026112XT035900Z-1a2b3c"));
    EXPECT_FALSE(is_backup_id("../etc/passwd/../../xx"));
    EXPECT_FALSE(is_backup_id(""));
}

TEST(Manifest, a_format_1_manifest_is_still_read_and_its_objects_are_unbound) {
    auto body = manifest_to_json(sample());
    body["format_version"] = 1;
    body["postgres"].erase("client_encoding");
    const Manifest m = manifest_from_json(body);
    EXPECT_EQ(m.format_version, 1);
    EXPECT_FALSE(m.postgres->client_encoding.has_value());
    EXPECT_FALSE(object_place(m, m.postgres->tables[0].object).has_value());
}

TEST(Manifest, format_2_objects_are_bound_to_the_backup_id_and_their_path) {
    const Manifest m = manifest_from_json(manifest_to_json(sample()));
    EXPECT_EQ(m.format_version, 2);
    EXPECT_EQ(m.postgres->client_encoding, "UTF8");
    const auto place = object_place(m, m.postgres->tables[0].object);
    ASSERT_TRUE(place.has_value());
    EXPECT_EQ(place->backup_id, "20261122T035900Z-1a2b3c");
    EXPECT_EQ(place->path, "pg/0001.obj");
}

TEST(Utf8, accepts_well_formed_text_and_rejects_latin1_bytes_and_bad_sequences) {
    EXPECT_TRUE(is_utf8(""));
    EXPECT_TRUE(is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_utf8("caf\xe9"));           // Latin-1 e-acute
    EXPECT_FALSE(is_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(is_utf8("\xed\xa0\x80"));      // a surrogate
    EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_utf8("\xe2\x82"));          // cut short
}
