// Heap-level copy and content checksum of a table's rows, in one pass: the core of
// snapshot_create (copy + checksum) and snapshot_verify / snapshot_restore (checksum).
//
// The content checksum is independent of storage: every value is detoasted (decompressed,
// fetched from TOAST) before it is hashed, dropped columns are skipped, and rows are
// combined order-independently, so a copy, a VACUUM FULL or a CLUSTER of the same rows
// gives the same checksum, while any changed, missing or extra row changes it.
#pragma once

#include "pg/postgres.hpp"

#include <string>

namespace pgm::pg {

struct TableChecksum {
    uint64 rows = 0;
    uint64 sum = 0;      // sum of the rows' 64-bit hashes
    uint64 mix = 0;      // sum of a second mix of the same hashes (guards against swaps)
    uint64 columns = 0;  // hash of the column names and types, in order

    // "<rows>:<columns>:<sum>:<mix>" in hex; what the catalog stores.
    std::string to_string() const;
};

// Copies every row visible to the current snapshot from `source` into the (new, empty) table
// `target`, which has the same non-dropped columns in the same order, and returns the
// checksum of the copied rows. Uses bulk multi-inserts.
TableChecksum copy_with_checksum(Oid source, Oid target);

// Checksum of every row of `relation` visible to the current snapshot.
TableChecksum table_checksum(Oid relation);

// Whether row-level security would filter `relation` for the current user (policies apply,
// or apply but are switched off by row_security = off, when a query would fail). The heap
// scans above ignore policies, so callers refuse such tables.
bool row_security_applies(Oid relation);

}  // namespace pgm::pg
