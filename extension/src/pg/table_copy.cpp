#include "pg/table_copy.hpp"

#include "pg/error.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "executor/tuptable.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
}

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdio>

namespace pgm::pg {

namespace {

constexpr uint64 kSeed = UINT64CONST(0x70676d6967726174);  // "pgmigrat"
constexpr int kBatchRows = 1000;

uint64 mix64(uint64 h) {
    h ^= h >> 33;
    h *= UINT64CONST(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64CONST(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

// Hash of the column layout: names and type OIDs of the non-dropped attributes, in order.
uint64 columns_hash(TupleDesc desc) {
    uint64 h = kSeed;
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped) continue;
        const char *name = NameStr(att->attname);
        h = hash_bytes_extended(reinterpret_cast<const unsigned char *>(name),
                                static_cast<int>(strlen(name)), h);
        h = hash_bytes_extended(reinterpret_cast<const unsigned char *>(&att->atttypid),
                                sizeof(Oid), h);
    }
    return h;
}

// Appends the row's values (slot must have all attributes deformed) to `buf` in a canonical
// form (a tag byte, then a 4-byte length and the bytes for variable-length values) and hashes
// it with XXH3 in one call. Detoasted copies go to the current memory context, which the
// caller resets per row.
uint64 row_hash(TupleTableSlot *slot, StringInfo buf) {
    TupleDesc desc = slot->tts_tupleDescriptor;
    resetStringInfo(buf);
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped) continue;
        if (slot->tts_isnull[i]) {
            appendStringInfoChar(buf, 'N');
            continue;
        }
        appendStringInfoChar(buf, 'V');
        Datum d = slot->tts_values[i];
        if (att->attbyval) {
            appendBinaryStringInfo(buf, reinterpret_cast<const char *>(&d), sizeof(Datum));
        } else if (att->attlen == -1) {
            struct varlena *v =
                pg_detoast_datum_packed(reinterpret_cast<struct varlena *>(DatumGetPointer(d)));
            uint32 len = VARSIZE_ANY_EXHDR(v);
            appendBinaryStringInfo(buf, reinterpret_cast<const char *>(&len), sizeof len);
            appendBinaryStringInfo(buf, VARDATA_ANY(v), static_cast<int>(len));
        } else if (att->attlen == -2) {
            const char *s = DatumGetCString(d);
            uint32 len = static_cast<uint32>(strlen(s));
            appendBinaryStringInfo(buf, reinterpret_cast<const char *>(&len), sizeof len);
            appendBinaryStringInfo(buf, s, static_cast<int>(len));
        } else {
            appendBinaryStringInfo(buf, DatumGetPointer(d), att->attlen);
        }
    }
    return XXH3_64bits_withSeed(buf->data, buf->len, kSeed);
}

void add_row(TableChecksum *sum, uint64 h) {
    sum->rows += 1;
    sum->sum += h;
    sum->mix += mix64(h ^ UINT64CONST(0x2545f4914f6cdd1d));
}

// Plain C over PostgreSQL: runs inside guarded().
void scan(Oid source_oid, Oid target_oid, TableChecksum *result) {
    Relation source = table_open(source_oid, AccessShareLock);
    Relation target = OidIsValid(target_oid) ? table_open(target_oid, RowExclusiveLock) : nullptr;
    TupleDesc sdesc = RelationGetDescr(source);
    result->columns = columns_hash(sdesc);

    MemoryContext row_context =
        AllocSetContextCreate(CurrentMemoryContext, "pg_migrate row hash", ALLOCSET_DEFAULT_SIZES);
    TupleTableSlot *in = table_slot_create(source, nullptr);
    StringInfoData row_bytes;
    initStringInfo(&row_bytes);
    TupleTableSlot **out = nullptr;
    int *map = nullptr;     // target attribute i <- source attribute map[i]
    bool raw_copy = false;  // source tuples can be copied as they are (same physical layout)
    BulkInsertState bistate = nullptr;
    CommandId cid = GetCurrentCommandId(true);
    int pending = 0;
    if (target != nullptr) {
        TupleDesc tdesc = RelationGetDescr(target);
        map = static_cast<int *>(palloc(sizeof(int) * tdesc->natts));
        int s = 0;
        for (int t = 0; t < tdesc->natts; ++t) {
            while (s < sdesc->natts && TupleDescAttr(sdesc, s)->attisdropped) ++s;
            if (s >= sdesc->natts ||
                TupleDescAttr(sdesc, s)->atttypid != TupleDescAttr(tdesc, t)->atttypid)
                elog(ERROR, "pg_migrate: snapshot table does not match the source's columns");
            map[t] = s++;
        }
        // Without dropped columns or columns whose value lives in the catalog (ADD COLUMN
        // with a default), a source tuple is already a valid target tuple: copy it like
        // CREATE TABLE AS does instead of forming a new one from the values.
        raw_copy = sdesc->natts == tdesc->natts;
        for (int i = 0; raw_copy && i < sdesc->natts; ++i)
            raw_copy =
                !TupleDescAttr(sdesc, i)->attisdropped && !TupleDescAttr(sdesc, i)->atthasmissing;
        out = static_cast<TupleTableSlot **>(palloc(sizeof(TupleTableSlot *) * kBatchRows));
        for (int i = 0; i < kBatchRows; ++i) out[i] = table_slot_create(target, nullptr);
        bistate = GetBulkInsertState();
    }

    // A snapshot that sees what this transaction did so far (the caller's statement snapshot
    // predates the changes a restore just made).
    CommandCounterIncrement();
    PushActiveSnapshot(GetTransactionSnapshot());
    UpdateActiveSnapshotCommandId();
    TableScanDesc sd = table_beginscan(source, GetActiveSnapshot(), 0, nullptr);
    while (table_scan_getnextslot(sd, ForwardScanDirection, in)) {
        CHECK_FOR_INTERRUPTS();
        slot_getallattrs(in);
        MemoryContext old = MemoryContextSwitchTo(row_context);
        add_row(result, row_hash(in, &row_bytes));
        MemoryContextSwitchTo(old);
        MemoryContextReset(row_context);  // a no-op unless detoasting allocated
        if (target == nullptr) continue;

        TupleTableSlot *o = out[pending];
        ExecClearTuple(o);
        if (raw_copy) {
            ExecCopySlot(o, in);  // a private copy: the source buffer may be released
        } else {
            for (int t = 0; t < o->tts_tupleDescriptor->natts; ++t) {
                o->tts_values[t] = in->tts_values[map[t]];
                o->tts_isnull[t] = in->tts_isnull[map[t]];
            }
            ExecStoreVirtualTuple(o);
            ExecMaterializeSlot(
                o);  // the source buffer may be released before the batch is written
        }
        if (++pending == kBatchRows) {
            table_multi_insert(target, out, pending, cid, TABLE_INSERT_SKIP_FSM, bistate);
            pending = 0;
            for (int i = 0; i < kBatchRows; ++i) ExecClearTuple(out[i]);
        }
    }
    table_endscan(sd);
    PopActiveSnapshot();
    if (target != nullptr) {
        if (pending > 0)
            table_multi_insert(target, out, pending, cid, TABLE_INSERT_SKIP_FSM, bistate);
        for (int i = 0; i < kBatchRows; ++i) ExecDropSingleTupleTableSlot(out[i]);
        FreeBulkInsertState(bistate);
        table_finish_bulk_insert(target, TABLE_INSERT_SKIP_FSM);
        table_close(target, NoLock);
    }
    ExecDropSingleTupleTableSlot(in);
    pfree(row_bytes.data);
    MemoryContextDelete(row_context);
    table_close(source, NoLock);
}

}  // namespace

std::string TableChecksum::to_string() const {
    char buf[96];
    snprintf(buf, sizeof buf, "%llu:%016llx:%016llx:%016llx", static_cast<unsigned long long>(rows),
             static_cast<unsigned long long>(columns), static_cast<unsigned long long>(sum),
             static_cast<unsigned long long>(mix));
    return buf;
}

TableChecksum copy_with_checksum(Oid source, Oid target) {
    TableChecksum result;
    TableChecksum *r = &result;
    guarded([source, target, r] { scan(source, target, r); });
    return result;
}

bool row_security_applies(Oid relation) {
    int status = RLS_NONE;
    // RLS_NONE_ENV: the caller bypasses the policies (owner, BYPASSRLS). With row_security
    // off and policies that apply, the no-error form answers RLS_ENABLED too.
    guarded([&status, relation] { status = check_enable_rls(relation, InvalidOid, true); });
    return status == RLS_ENABLED;
}

TableChecksum table_checksum(Oid relation) {
    TableChecksum result;
    TableChecksum *r = &result;
    guarded([relation, r] { scan(relation, InvalidOid, r); });
    return result;
}

}  // namespace pgm::pg
