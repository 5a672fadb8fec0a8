#include "archive/manifest.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

namespace pgmig::archive {

namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string &path, const std::string &what) {
    throw ArchiveError("manifest: " + path + " " + what);
}

const json &field(const json &j, const std::string &path, const char *key) {
    if (!j.is_object()) bad(path, "must be an object");
    const auto it = j.find(key);
    if (it == j.end()) bad(path.empty() ? key : path + "." + key, "is missing");
    return *it;
}

std::string sub(const std::string &path, const char *key) {
    return path.empty() ? key : path + "." + key;
}

std::string text(const json &j, const std::string &path, const char *key, size_t max = 4096) {
    const json &v = field(j, path, key);
    if (!v.is_string()) bad(sub(path, key), "must be a string");
    const auto &s = v.get_ref<const std::string &>();
    if (s.size() > max) bad(sub(path, key), "is longer than " + std::to_string(max));
    return s;
}

std::optional<std::string> optional_text(const json &j, const std::string &path, const char *key) {
    if (!j.contains(key) || j[key].is_null()) return std::nullopt;
    return text(j, path, key);
}

uint64_t count(const json &j, const std::string &path, const char *key) {
    const json &v = field(j, path, key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
        bad(sub(path, key), "must be a non-negative integer");
    return v.get<uint64_t>();
}

int64_t integer(const json &j, const std::string &path, const char *key) {
    const json &v = field(j, path, key);
    if (!v.is_number_integer()) bad(sub(path, key), "must be an integer");
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        bad(sub(path, key), "is out of range");
    return v.get<int64_t>();
}

bool boolean(const json &j, const std::string &path, const char *key) {
    const json &v = field(j, path, key);
    if (!v.is_boolean()) bad(sub(path, key), "must be true or false");
    return v.get<bool>();
}

const json &array(const json &j, const std::string &path, const char *key) {
    const json &v = field(j, path, key);
    if (!v.is_array()) bad(sub(path, key), "must be an array");
    return v;
}

bool is_hex(const std::string &s, size_t length) {
    if (s.size() != length) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c)) ||
            std::isupper(static_cast<unsigned char>(c)))
            return false;
    return true;
}

// Object paths come from the manifest, which may be hostile: only our own shape is accepted,
// so a restore can never be pointed outside the backup's folder.
bool is_object_path(const std::string &p) {
    if (p.empty() || p.size() > 200 || p.front() == '/' || p.find("..") != std::string::npos)
        return false;
    for (char c : p)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '.' && c != '-' &&
            c != '_')
            return false;
    return true;
}

json object_to_json(const ObjectEntry &o) {
    return {{"path", o.path},
            {"plaintext_bytes", o.plaintext_bytes},
            {"plaintext_sha256", o.plaintext_sha256},
            {"stored_bytes", o.stored_bytes}};
}

ObjectEntry object_from_json(const json &j, const std::string &path) {
    ObjectEntry o;
    o.path = text(j, path, "path", 200);
    if (!is_object_path(o.path)) bad(sub(path, "path"), "is not a valid object path");
    o.plaintext_bytes = count(j, path, "plaintext_bytes");
    o.plaintext_sha256 = text(j, path, "plaintext_sha256", 64);
    if (!is_hex(o.plaintext_sha256, 64))
        bad(sub(path, "plaintext_sha256"), "must be 64 hex digits");
    o.stored_bytes = count(j, path, "stored_bytes");
    return o;
}

}  // namespace

uint64_t Manifest::total_stored_bytes() const {
    uint64_t n = 0;
    if (postgres)
        for (const auto &t : postgres->tables) n += t.object.stored_bytes;
    if (dynamodb)
        for (const auto &t : dynamodb->tables) n += t.object.stored_bytes;
    return n;
}

uint64_t Manifest::total_rows() const {
    uint64_t n = 0;
    if (postgres)
        for (const auto &t : postgres->tables) n += t.rows;
    if (dynamodb)
        for (const auto &t : dynamodb->tables) n += t.items;
    return n;
}

json manifest_to_json(const Manifest &m) {
    json j = {{"format", "pgmig-backup"},
              {"format_version", m.format_version},
              {"backup_id", m.backup_id},
              {"created_at", m.created_at},
              {"finished_at", m.finished_at},
              {"tool_version", m.tool_version},
              {"label", m.label},
              {"encryption",
               {{"cipher", "AES-256-GCM"},
                {"key_id", m.key_id},
                {"kdf", m.kdf ? json{{"algorithm", m.kdf->algorithm},
                                     {"n", m.kdf->n},
                                     {"r", m.kdf->r},
                                     {"p", m.kdf->p},
                                     {"salt_hex", m.kdf->salt_hex}}
                              : json()}}},
              {"compression", {{"algorithm", m.compression}, {"level", m.compression_level}}}};
    if (m.postgres) {
        json tables = json::array();
        for (const auto &t : m.postgres->tables) {
            json columns = json::array(), sequences = json::array();
            for (const auto &c : t.columns) columns.push_back({{"name", c.name}, {"type", c.type}});
            for (const auto &s : t.sequences)
                sequences.push_back({{"name", s.name},
                                     {"column", s.column},
                                     {"last_value", s.last_value},
                                     {"is_called", s.is_called}});
            tables.push_back({{"schema", t.schema},
                              {"name", t.name},
                              {"columns", columns},
                              {"sequences", sequences},
                              {"rows", t.rows},
                              {"object", object_to_json(t.object)}});
        }
        j["postgres"] = {
            {"server_version", m.postgres->server_version},
            {"database", m.postgres->database},
            {"schema_version",
             m.postgres->schema_version ? json(*m.postgres->schema_version) : json()},
            {"schema_fingerprint",
             m.postgres->schema_fingerprint ? json(*m.postgres->schema_fingerprint) : json()},
            {"tables", tables}};
        if (m.postgres->client_encoding)
            j["postgres"]["client_encoding"] = *m.postgres->client_encoding;
        if (m.postgres->ddl) j["postgres"]["ddl"] = object_to_json(*m.postgres->ddl);
    }
    if (m.dynamodb) {
        json tables = json::array();
        for (const auto &t : m.dynamodb->tables)
            tables.push_back({{"name", t.name},
                              {"description", t.description},
                              {"items", t.items},
                              {"object", object_to_json(t.object)}});
        j["dynamodb"] = {
            {"region", m.dynamodb->region}, {"endpoint", m.dynamodb->endpoint}, {"tables", tables}};
    }
    return j;
}

Manifest manifest_from_json(const json &j) {
    if (!j.is_object()) bad("(top level)", "must be an object");
    if (text(j, "", "format", 64) != "pgmig-backup") bad("format", "is not \"pgmig-backup\"");
    Manifest m;
    const int64_t version = integer(j, "", "format_version");
    if (version < kOldestManifestFormatVersion || version > kManifestFormatVersion)
        throw ArchiveError("manifest format version " + std::to_string(version) +
                           " is not supported by this pgmig (it reads versions " +
                           std::to_string(kOldestManifestFormatVersion) + " to " +
                           std::to_string(kManifestFormatVersion) + "); use a newer pgmig");
    m.format_version = static_cast<int>(version);
    m.backup_id = text(j, "", "backup_id", 64);
    if (!is_backup_id(m.backup_id)) bad("backup_id", "is not a backup id");
    m.created_at = text(j, "", "created_at", 64);
    m.finished_at = text(j, "", "finished_at", 64);
    m.tool_version = text(j, "", "tool_version", 200);
    m.label = text(j, "", "label", 1000);
    const json &enc = field(j, "", "encryption");
    if (text(enc, "encryption", "cipher", 64) != "AES-256-GCM")
        bad("encryption.cipher", "is not AES-256-GCM");
    m.key_id = text(enc, "encryption", "key_id", 64);
    const json &kdf = field(enc, "encryption", "kdf");
    if (!kdf.is_null()) {
        KdfParams p;
        p.algorithm = text(kdf, "encryption.kdf", "algorithm", 32);
        p.n = count(kdf, "encryption.kdf", "n");
        const uint64_t r = count(kdf, "encryption.kdf", "r"),
                       pp = count(kdf, "encryption.kdf", "p");
        // The KDF runs before the MAC can be checked: bound its work (N*r*p) to 16 times
        // pgmig's own setting, so a hostile manifest cannot make list or prune hang.
        if (r == 0 || pp == 0 || r > 64 || pp > 16 || p.n > (uint64_t{1} << 22) ||
            p.n * r * pp > (uint64_t{1} << 22))
            bad("encryption.kdf", "asks for more scrypt work than pgmig allows");
        p.r = static_cast<uint32_t>(r);
        p.p = static_cast<uint32_t>(pp);
        p.salt_hex = text(kdf, "encryption.kdf", "salt_hex", 128);
        m.kdf = p;
    }
    const json &comp = field(j, "", "compression");
    m.compression = text(comp, "compression", "algorithm", 32);
    if (m.compression != "zstd" && m.compression != "none")
        bad("compression.algorithm", "is not zstd or none");
    m.compression_level = static_cast<int>(integer(comp, "compression", "level"));

    if (j.contains("postgres") && !j["postgres"].is_null()) {
        const json &pg = j["postgres"];
        PgSource s;
        s.server_version = text(pg, "postgres", "server_version", 200);
        s.database = text(pg, "postgres", "database", 200);
        s.schema_version = optional_text(pg, "postgres", "schema_version");
        s.schema_fingerprint = optional_text(pg, "postgres", "schema_fingerprint");
        if (m.format_version >= 2) {
            // Set on the restore's session: only an encoding name's shape is accepted.
            const std::string encoding = text(pg, "postgres", "client_encoding", 32);
            if (encoding.empty() ||
                !std::all_of(encoding.begin(), encoding.end(), [](unsigned char c) {
                    return std::isupper(c) || std::isdigit(c) || c == '_';
                }))
                bad("postgres.client_encoding", "is not an encoding name");
            s.client_encoding = encoding;
        }
        if (pg.contains("ddl") && !pg["ddl"].is_null())
            s.ddl = object_from_json(pg["ddl"], "postgres.ddl");
        const json &tables = array(pg, "postgres", "tables");
        for (size_t i = 0; i < tables.size(); ++i) {
            const std::string path = "postgres.tables[" + std::to_string(i) + "]";
            const json &t = tables[i];
            PgTable table;
            table.schema = text(t, path, "schema", 200);
            table.name = text(t, path, "name", 200);
            const json &columns = array(t, path, "columns");
            for (size_t c = 0; c < columns.size(); ++c) {
                const std::string cp = path + ".columns[" + std::to_string(c) + "]";
                table.columns.push_back(
                    {text(columns[c], cp, "name", 200), text(columns[c], cp, "type", 400)});
            }
            const json &sequences = array(t, path, "sequences");
            for (size_t q = 0; q < sequences.size(); ++q) {
                const std::string sp = path + ".sequences[" + std::to_string(q) + "]";
                table.sequences.push_back({text(sequences[q], sp, "name", 400),
                                           text(sequences[q], sp, "column", 200),
                                           integer(sequences[q], sp, "last_value"),
                                           boolean(sequences[q], sp, "is_called")});
            }
            table.rows = count(t, path, "rows");
            table.object = object_from_json(field(t, path, "object"), path + ".object");
            s.tables.push_back(std::move(table));
        }
        m.postgres = std::move(s);
    }
    if (j.contains("dynamodb") && !j["dynamodb"].is_null()) {
        const json &d = j["dynamodb"];
        DynamoSource s;
        s.region = text(d, "dynamodb", "region", 64);
        s.endpoint = text(d, "dynamodb", "endpoint", 400);
        const json &tables = array(d, "dynamodb", "tables");
        for (size_t i = 0; i < tables.size(); ++i) {
            const std::string path = "dynamodb.tables[" + std::to_string(i) + "]";
            DynamoTable table;
            table.name = text(tables[i], path, "name", 255);
            table.description = field(tables[i], path, "description");
            if (!table.description.is_object()) bad(path + ".description", "must be an object");
            table.items = count(tables[i], path, "items");
            table.object = object_from_json(field(tables[i], path, "object"), path + ".object");
            s.tables.push_back(std::move(table));
        }
        m.dynamodb = std::move(s);
    }
    std::vector<std::string> paths;
    if (m.postgres) {
        for (const auto &t : m.postgres->tables) paths.push_back(t.object.path);
        if (m.postgres->ddl) paths.push_back(m.postgres->ddl->path);
    }
    if (m.dynamodb)
        for (const auto &t : m.dynamodb->tables) paths.push_back(t.object.path);
    std::sort(paths.begin(), paths.end());
    if (std::adjacent_find(paths.begin(), paths.end()) != paths.end())
        bad("tables", "name the same object twice");
    return m;
}

std::string seal_manifest(const Manifest &m, const BackupKey &key) {
    const json body = manifest_to_json(m);
    const std::string canonical = body.dump();
    return json{{"manifest", body}, {"mac", manifest_mac(key, canonical)}}.dump(2) + "\n";
}

ManifestEnvelope open_manifest_envelope(const std::string &text_in) {
    if (text_in.size() > (64u << 20)) throw ArchiveError("manifest is larger than 64 MiB");
    json j;
    try {
        j = json::parse(text_in);
    } catch (const json::exception &e) {
        throw ArchiveError(std::string("manifest is not valid JSON: ") + e.what());
    }
    ManifestEnvelope env;
    if (!j.is_object() || !j.contains("manifest") || !j["manifest"].is_object())
        throw ArchiveError("manifest: not a sealed pgmig manifest (no \"manifest\" object)");
    env.body = j["manifest"];
    env.mac = text(j, "", "mac", 64);
    if (!is_hex(env.mac, 64)) bad("mac", "must be 64 hex digits");
    const json &enc = field(env.body, "", "encryption");
    env.key_id = text(enc, "encryption", "key_id", 64);
    // Shown in "wrong key" messages before anything is authenticated: only our own shape.
    if (!is_hex(env.key_id, 16)) bad("encryption.key_id", "must be 16 hex digits");
    // Parsed (and checked) the same way as in the full manifest, for the salt.
    if (enc.contains("kdf") && !enc["kdf"].is_null()) {
        json probe = env.body;
        probe["postgres"] = nullptr;
        probe["dynamodb"] = nullptr;
        env.kdf = manifest_from_json(probe).kdf;
    }
    return env;
}

Manifest authenticate_manifest(const ManifestEnvelope &env, const BackupKey &key) {
    const std::string mine = key_id(key);
    if (mine != env.key_id)
        throw ArchiveError("wrong key: this backup was made with key " + env.key_id +
                           ", the key given is " + mine);
    if (!manifest_mac_matches(key, env.body.dump(), env.mac))
        throw ArchiveError(
            "manifest failed authentication: it was changed after the backup was written");
    return manifest_from_json(env.body);
}

std::optional<ObjectPlace> object_place(const Manifest &m, const ObjectEntry &object) {
    if (m.format_version < 2) return std::nullopt;
    return ObjectPlace{m.backup_id, object.path};
}

bool is_utf8(std::string_view text) {
    const auto *p = reinterpret_cast<const unsigned char *>(text.data());
    const size_t n = text.size();
    for (size_t i = 0; i < n;) {
        const unsigned char c = p[i];
        size_t length = 0;
        uint32_t cp = 0, min = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            length = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            length = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            length = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (i + length > n) return false;
        for (size_t k = 1; k < length; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += length;
    }
    return true;
}

bool is_backup_id(const std::string &id) {
    // YYYYMMDDTHHMMSSZ-xxxxxx
    if (id.size() != 23 || id[8] != 'T' || id[15] != 'Z' || id[16] != '-') return false;
    for (size_t i = 0; i < id.size(); ++i) {
        if (i == 8 || i == 15 || i == 16) continue;
        const char c = id[i];
        if (i < 15 ? !std::isdigit(static_cast<unsigned char>(c))
                   : !(std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

}  // namespace pgmig::archive
