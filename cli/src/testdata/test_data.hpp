// Test data batches: rows generated into a table, remembered by primary key in the
// extension (pg_migrate.testdata_batch / testdata_row) so cleanup removes exactly them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgmig::db {
class Connection;
}

namespace pgmig::testdata {

struct GenerateResult {
    int64_t batch_id = 0;
    std::string table;  // as regclass prints it
    int64_t rows = 0;
};

// Generates `rows` rows into `table` in one transaction: all of them or none. Values follow
// each column's type, name, NOT NULL, CHECK (rows a CHECK rejects are generated again),
// UNIQUE and foreign keys (parents sampled from the referenced table). `progress` is called
// with the rows inserted so far.
GenerateResult generate(db::Connection &conn, const std::string &table, int64_t rows,
                        const std::function<void(int64_t)> &progress);

struct BatchInfo {
    int64_t id = 0;
    std::string table;
    int64_t rows = 0;
    std::string created_at;
    std::string created_by;
};

std::vector<BatchInfo> list_batches(db::Connection &conn);

struct CleanupResult {
    int64_t batch_id = 0;
    std::string table;
    int64_t rows_deleted = 0;
    // Non-empty when the batch was left alone (--all): it was recorded by another role.
    std::string recorded_by_other;
};

// Deletes the rows of one batch (or of every batch, newest first, so children go before
// the parents they reference), in one transaction. Rows changed since are still deleted;
// rows already gone are skipped. Only batches recorded by the session's own role (its
// session_user, with no SET ROLE in effect) are deleted: a table's triggers run with the
// rights of the session, and a session user's rights are never lowered by SET ROLE (code
// can SET ROLE back), so another role's batch in a superuser's session would run that
// role's code as the superuser. A named batch of another role is refused; --all leaves
// them, each listed with its recorder.
std::vector<CleanupResult> cleanup(db::Connection &conn, std::optional<int64_t> batch_id,
                                   bool dry_run);

}  // namespace pgmig::testdata
