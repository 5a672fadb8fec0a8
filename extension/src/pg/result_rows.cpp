#include "pg/result_rows.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

void return_rows(FunctionCallInfo fcinfo, const std::vector<Row> &rows) {
    // Flatten to C strings first, so the guarded part touches no C++ containers' growth.
    const size_t nrows = rows.size();
    const size_t ncols = nrows > 0 ? rows.front().size() : 0;
    std::vector<const char *> cells;
    cells.reserve(nrows * ncols);
    for (const Row &row : rows) {
        if (row.size() != ncols)
            throw UserError("XX000", "pg_migrate internal error: result rows of different widths");
        for (const Value &v : row) cells.push_back(v ? v->c_str() : nullptr);
    }
    const char *const *data = cells.data();
    int declared = -1;
    guarded([fcinfo, &declared] {
        InitMaterializedSRF(fcinfo, 0);
        declared = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo)->setDesc->natts;
    });
    // BuildTupleFromCStrings reads one C string per declared column.
    if (nrows > 0 && static_cast<size_t>(declared) != ncols)
        throw UserError("XX000", "pg_migrate internal error: a result row has " +
                                     std::to_string(ncols) + " columns, the function declares " +
                                     std::to_string(declared));
    guarded([fcinfo, data, nrows, ncols] {
        ReturnSetInfo *rsinfo = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        AttInMetadata *meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
        for (size_t r = 0; r < nrows; ++r) {
            HeapTuple tuple = BuildTupleFromCStrings(meta, const_cast<char **>(data + r * ncols));
            tuplestore_puttuple(rsinfo->setResult, tuple);
            heap_freetuple(tuple);
        }
    });
}

}  // namespace pgm::pg
