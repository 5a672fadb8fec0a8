#include "backup/backup_catalog.hpp"

#include "archive/copy_binary_rows.hpp"
#include "backup/object_io.hpp"
#include "exit_code.hpp"
#include "version.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>

namespace pgmig::backup {

namespace {

constexpr const char *kVerifiedName = "verified.json";

std::string utc_now(const char *format) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[64];
    std::strftime(text, sizeof text, format, &tm);
    return text;
}

// Seconds since the epoch of an id's time part, or -1.
int64_t id_epoch(const std::string &id) {
    if (id.size() < 16) return -1;
    std::tm tm{};
    if (!strptime(id.substr(0, 16).c_str(), "%Y%m%dT%H%M%SZ", &tm)) return -1;
    return static_cast<int64_t>(timegm(&tm));
}

std::string folder_of(const std::string &key) {
    const size_t slash = key.find('/');
    return slash == std::string::npos ? "" : key.substr(0, slash);
}

// verified.json: {"verify_record": {"backup_id", "verified_at", "objects", "rows"}, "mac"}.
// Its MAC covers a domain prefix, so a manifest copied over it (or the other way round)
// never authenticates as a verification.
constexpr const char *kVerifyDomain = "pgmig verify record v1\n";

std::string seal_verify_record(const std::string &id, const VerifyResult &r,
                               const std::string &when, const archive::BackupKey &key) {
    const nlohmann::json body = {
        {"backup_id", id}, {"verified_at", when}, {"objects", r.objects}, {"rows", r.rows}};
    return nlohmann::json{{"verify_record", body},
                          {"mac", archive::manifest_mac(key, kVerifyDomain + body.dump())}}
               .dump(2) +
           "\n";
}

// The time of the verification the record holds, after checking its MAC and backup id.
std::string open_verify_record(const std::string &text, const std::string &id,
                               const archive::BackupKey &key) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &) {
        throw archive::ArchiveError("verified.json of " + id + " is not JSON");
    }
    if (!j.is_object() || !j.contains("verify_record") || !j["verify_record"].is_object() ||
        !j.contains("mac") || !j["mac"].is_string())
        throw archive::ArchiveError("verified.json of " + id + " is not a verify record");
    const auto &body = j["verify_record"];
    if (!archive::manifest_mac_matches(key, kVerifyDomain + body.dump(),
                                       j["mac"].get<std::string>()))
        throw archive::ArchiveError("verified.json of " + id + " failed authentication");
    if (body.value("backup_id", "") != id || !body.contains("verified_at") ||
        !body["verified_at"].is_string())
        throw archive::ArchiveError("verified.json of " + id + " belongs to another backup");
    return body["verified_at"].get<std::string>();
}

// Every object the manifest names: data objects and the table definitions.
std::vector<const archive::ObjectEntry *> objects_of(const archive::Manifest &m) {
    std::vector<const archive::ObjectEntry *> out;
    if (m.postgres) {
        for (const auto &t : m.postgres->tables) out.push_back(&t.object);
        if (m.postgres->ddl) out.push_back(&*m.postgres->ddl);
    }
    if (m.dynamodb)
        for (const auto &t : m.dynamodb->tables) out.push_back(&t.object);
    return out;
}

// "2026-11-22T04:07:56Z" -> "2026-11-22 04:07Z".
std::string short_time(const std::string &iso) {
    if (iso.size() == 20 && iso[10] == 'T' && iso[19] == 'Z')
        return iso.substr(0, 10) + " " + iso.substr(11, 5) + "Z";
    return iso;
}

}  // namespace

std::string state_text(const BackupSummary &b) {
    if (!b.complete) return "incomplete";
    if (!b.authenticated) return "unauthenticated";
    if (!b.damage.empty())
        return b.verified_at.empty()
                   ? "damaged"
                   : "damaged (verified " + short_time(b.verified_at) + ", changed since)";
    return b.verified_at.empty() ? "not verified" : "verified " + short_time(b.verified_at);
}

std::string new_backup_id() {
    unsigned char r[3];
    if (RAND_bytes(r, sizeof r) != 1) throw std::runtime_error("no random bytes for a backup id");
    return utc_now("%Y%m%dT%H%M%SZ") + "-" + archive::hex_encode(r, sizeof r);
}

archive::Manifest create_backup(const CreateOptions &opts, store::Store &store,
                                const KeySource &keys, const ByteProgress &progress) {
    if (!opts.postgres && !opts.dynamodb)
        throw UsageError("nothing to back up: name PostgreSQL or DynamoDB tables");
    // The manifest is JSON: a label that is not UTF-8 would fail it after every object was
    // stored.
    if (!archive::is_utf8(opts.label)) throw UsageError("--label must be valid UTF-8 text");
    std::optional<archive::KdfParams> kdf;
    const archive::BackupKey key = key_for_new_backup(keys, kdf);
    archive::Manifest m;
    m.backup_id = new_backup_id();
    m.created_at = utc_now("%Y-%m-%dT%H:%M:%SZ");
    m.tool_version = std::string("pgmig ") + kVersion;
    m.label = opts.label;
    m.key_id = archive::key_id(key);
    m.kdf = kdf;
    m.compression_level = opts.zstd_level;
    try {
        uint64_t pg_bytes = 0;
        if (opts.postgres) {
            PgBackupOptions pg = *opts.postgres;
            pg.zstd_level = opts.zstd_level;
            m.postgres = backup_postgres(pg, store, m.backup_id, key, progress);
            for (const auto &t : m.postgres->tables) pg_bytes += t.object.plaintext_bytes;
        }
        if (opts.dynamodb) {
            // Progress counts on from the PostgreSQL bytes, so the bar never runs backwards.
            const ByteProgress after_pg = [&progress, pg_bytes](uint64_t bytes) {
                if (progress) progress(pg_bytes + bytes);
            };
            m.dynamodb =
                backup_dynamodb(*opts.dynamodb, store, m.backup_id, key, opts.zstd_level, after_pg);
        }
        m.finished_at = utc_now("%Y-%m-%dT%H:%M:%SZ");
        // The commit marker: written only after every object is safely stored.
        store.put(m.backup_id + "/" + archive::kManifestName, archive::seal_manifest(m, key));
    } catch (const UsageError &) {
        throw;  // a wrong option, not a failed backup
    } catch (const RefusedBySafetyCheck &) {
        throw;
    } catch (const std::exception &e) {
        throw std::runtime_error("backup " + m.backup_id +
                                 " failed and is incomplete (no manifest"
                                 "; pgmig backup prune removes what it left): " +
                                 e.what());
    }
    return m;
}

archive::Manifest open_backup(store::Store &store, const std::string &id, const KeySource &keys,
                              archive::BackupKey &key_out) {
    if (!archive::is_backup_id(id))
        throw UsageError("\"" + id + "\" is not a backup id (pgmig backup list shows them)");
    std::string text;
    try {
        text = store.get(id + "/" + archive::kManifestName);
    } catch (const store::ObjectNotFound &) {
        if (store.list(id + "/").empty())
            throw UsageError("there is no backup " + id + " in " + store.url());
        throw archive::ArchiveError("backup " + id +
                                    " is incomplete: it has no manifest (the run that wrote it "
                                    "failed or is still running)");
    }
    const auto envelope = archive::open_manifest_envelope(text);
    key_out = key_for_backup(keys, envelope);
    auto m = archive::authenticate_manifest(envelope, key_out);
    if (m.backup_id != id)
        throw archive::ArchiveError("manifest of " + id + " names another backup (" + m.backup_id +
                                    "): it was copied from elsewhere");
    return m;
}

std::vector<BackupSummary> list_backups(store::Store &store, const KeySource &keys) {
    std::map<std::string, BackupSummary> by_id;
    std::map<std::string, bool> has_manifest, has_verified;
    std::map<std::string, uint64_t> size_of;
    for (const auto &o : store.list("")) {
        const std::string id = folder_of(o.key);
        if (!archive::is_backup_id(id)) continue;
        auto &s = by_id[id];
        s.id = id;
        s.stored_bytes += o.size;
        size_of[o.key] = o.size;
        if (o.key == id + "/" + archive::kManifestName) has_manifest[id] = true;
        if (o.key == id + "/" + kVerifiedName) has_verified[id] = true;
    }
    require_key_source(keys);  // no key at all is the user's mistake, not one backup's
    std::vector<BackupSummary> out;
    for (auto &[id, s] : by_id) {
        s.complete = has_manifest[id];
        if (!s.complete) {
            s.problem = "incomplete: no manifest";
        } else {
            try {
                archive::BackupKey key{};
                auto manifest = open_backup(store, id, keys, key);
                // A verification record that cannot be read leaves the backup unauthenticated
                // (kept by prune) rather than quietly unverified (prunable).
                if (has_verified[id])
                    s.verified_at =
                        open_verify_record(store.get(id + "/" + kVerifiedName), id, key);
                // What the listing shows of the objects now, whatever a verify said before.
                for (const archive::ObjectEntry *e : objects_of(manifest)) {
                    const auto found = size_of.find(id + "/" + e->path);
                    if (found == size_of.end())
                        s.damage = "object " + e->path + " is missing";
                    else if (found->second != e->stored_bytes)
                        s.damage = "object " + e->path + " is " + std::to_string(found->second) +
                                   " bytes in the store, the manifest says " +
                                   std::to_string(e->stored_bytes);
                    if (!s.damage.empty()) break;
                }
                s.manifest = std::move(manifest);
                s.authenticated = true;
            } catch (const std::exception &e) {
                s.problem = e.what();  // e.g. made with a key file while a passphrase was given
            }
        }
        out.push_back(s);
    }
    return out;
}

VerifyResult verify_backup(store::Store &store, const std::string &id, const KeySource &keys,
                           const ByteProgress &progress) {
    archive::BackupKey key{};
    const archive::Manifest m = open_backup(store, id, keys, key);
    std::map<std::string, uint64_t> stored;
    for (const auto &o : store.list(id + "/")) stored[o.key] = o.size;
    VerifyResult result;
    result.id = id;
    uint64_t done = 0;
    auto check_present = [&](const archive::ObjectEntry &e) {
        const std::string k = id + "/" + e.path;
        if (!stored.count(k)) throw archive::ArchiveError("object " + k + " is missing");
        if (stored[k] != e.stored_bytes)
            throw archive::ArchiveError("object " + k + " is " + std::to_string(stored[k]) +
                                        " bytes in the store, the manifest says " +
                                        std::to_string(e.stored_bytes));
        return k;
    };
    if (m.postgres)
        for (const auto &t : m.postgres->tables) {
            const std::string k = check_present(t.object);
            archive::CopyBinaryRowCounter counter;
            read_object(store, m, t.object, key, [&](const unsigned char *data, size_t size) {
                counter.feed(data, size);
                done += size;
                if (progress) progress(done);
            });
            try {
                counter.finish();
            } catch (const archive::ArchiveError &e) {
                throw archive::ArchiveError("object " + k + ": " + e.what());
            }
            if (counter.rows() > 0 &&
                counter.fields_per_row() != static_cast<int>(t.columns.size()))
                throw archive::ArchiveError("object " + k + " (" + t.schema + "." + t.name +
                                            ") has " + std::to_string(counter.fields_per_row()) +
                                            " fields per row, the manifest lists " +
                                            std::to_string(t.columns.size()) + " columns");
            if (counter.rows() != t.rows)
                throw archive::ArchiveError("object " + k + " (" + t.schema + "." + t.name +
                                            ") holds " + std::to_string(counter.rows()) +
                                            " rows, the manifest says " + std::to_string(t.rows));
            ++result.objects;
            result.rows += t.rows;
            result.stored_bytes += t.object.stored_bytes;
        }
    if (m.postgres && m.postgres->ddl) {  // the table definitions (create --with-ddl)
        const std::string k = check_present(*m.postgres->ddl);
        read_object(store, m, *m.postgres->ddl, key, [&](const unsigned char *, size_t size) {
            done += size;
            if (progress) progress(done);
        });
        ++result.objects;
        result.stored_bytes += m.postgres->ddl->stored_bytes;
    }
    if (m.dynamodb)
        for (const auto &t : m.dynamodb->tables) {
            const std::string k = check_present(t.object);
            uint64_t lines = 0;
            read_object(store, m, t.object, key, [&](const unsigned char *data, size_t size) {
                lines += static_cast<uint64_t>(std::count(data, data + size, '\n'));
                done += size;
                if (progress) progress(done);
            });
            if (lines != t.items)
                throw archive::ArchiveError("object " + k + " (DynamoDB table " + t.name +
                                            ") holds " + std::to_string(lines) +
                                            " items, the manifest says " + std::to_string(t.items));
            ++result.objects;
            result.rows += t.items;
            result.stored_bytes += t.object.stored_bytes;
        }
    store.put(id + "/" + kVerifiedName,
              seal_verify_record(id, result, utc_now("%Y-%m-%dT%H:%M:%SZ"), key));
    return result;
}

std::vector<PruneDecision> decide_prune(const std::vector<BackupSummary> &backups,
                                        const PruneOptions &opts, const std::string &now_id) {
    const int64_t now = id_epoch(now_id);
    std::vector<PruneDecision> out;
    // Which good backups are among the newest keep_last, and which is the newest verified.
    std::vector<size_t> good;
    for (size_t i = 0; i < backups.size(); ++i)
        if (backups[i].complete && backups[i].authenticated && backups[i].damage.empty())
            good.push_back(i);
    std::map<size_t, int> rank;  // 1 = newest good backup
    for (size_t r = 0; r < good.size(); ++r)
        rank[good[good.size() - 1 - r]] = static_cast<int>(r) + 1;
    std::optional<size_t> newest_verified;
    for (size_t i : good)
        if (!backups[i].verified_at.empty()) newest_verified = i;
    for (size_t i = 0; i < backups.size(); ++i) {
        const auto &b = backups[i];
        PruneDecision d{b.id, false, "", 0};
        const int64_t age = now - id_epoch(b.id);
        if (!b.complete) {
            d.keep = age < int64_t(opts.leftover_hours) * 3600;
            d.reason = d.keep ? "incomplete, and recent enough to be still running"
                              : "incomplete leftover of a failed run";
        } else if (!b.authenticated) {
            d.keep = true;
            d.reason = "kept: cannot be authenticated (" + b.problem + ")";
        } else if (!b.damage.empty()) {
            // Not a good backup (it counts for neither rule), but not deleted unseen either.
            d.keep = true;
            d.reason = "kept, but damaged and not counted as a good backup (" + b.damage +
                       "): look at it, then delete it";
        } else if (newest_verified && *newest_verified == i) {
            d.keep = true;
            d.reason = "newest verified backup";
        } else if (rank[i] <= opts.keep_last) {
            d.keep = true;
            d.reason = "one of the newest " + std::to_string(opts.keep_last);
        } else if (age < int64_t(opts.keep_days) * 86400) {
            d.keep = true;
            d.reason = "younger than " + std::to_string(opts.keep_days) + " days";
        } else {
            d.reason = "older than the retention";
        }
        out.push_back(d);
    }
    return out;
}

std::vector<PruneDecision> prune_backups(store::Store &store, const KeySource &keys,
                                         const PruneOptions &opts) {
    if (opts.keep_last < 0 || opts.keep_days < 0)
        throw UsageError("--keep-last and --keep-days must not be negative");
    if (opts.keep_last == 0 && opts.keep_days == 0)
        throw UsageError(
            "prune needs --keep-last N or --keep-days D (or both); it never deletes "
            "every backup");
    const auto backups = list_backups(store, keys);
    auto decisions = decide_prune(backups, opts, utc_now("%Y%m%dT%H%M%SZ"));
    for (auto &d : decisions) {
        auto objects = store.list(d.id + "/");
        d.objects = objects.size();
        if (d.keep || opts.dry_run) continue;
        // The commit marker goes first: an interrupted prune leaves an incomplete folder
        // (cleaned by the next prune), never a manifest naming objects that are gone.
        std::vector<std::string> markers, data;
        for (const auto &o : objects)
            (o.key == d.id + "/" + archive::kManifestName || o.key == d.id + "/" + kVerifiedName
                 ? markers
                 : data)
                .push_back(o.key);
        std::sort(markers.begin(), markers.end());  // manifest.json before verified.json
        store.remove(markers);
        store.remove(data);
    }
    return decisions;
}

std::vector<AbandonedUploadDecision> prune_abandoned_uploads(store::Store &store,
                                                             const PruneOptions &opts) {
    const int64_t now = id_epoch(utc_now("%Y%m%dT%H%M%SZ"));
    std::vector<AbandonedUploadDecision> out;
    for (const auto &u : store.pending_uploads("")) {
        // Only pgmig's own: the store's root may hold other programs' uploads.
        if (!archive::is_backup_id(folder_of(u.key))) continue;
        // An unreadable start time is treated as young: never abort what may be running.
        if (u.started < 0 || now - u.started < int64_t(opts.leftover_hours) * 3600) continue;
        AbandonedUploadDecision d{u.key, u.started_at, false, ""};
        if (!opts.dry_run) {
            try {
                store.abort_pending_upload(u);
                d.removed = true;
            } catch (const std::exception &e) {
                d.problem = e.what();
            }
        }
        out.push_back(d);
    }
    return out;
}

}  // namespace pgmig::backup
