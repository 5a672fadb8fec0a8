#include "pg/result_rows.hpp"

#include "pg/error.hpp"

namespace pgm::pg {

void return_rows(FunctionCallInfo fcinfo, const std::vector<Row> &rows) {
    // Flatten to C strings first, so the guarded part touches no C++ containers' growth.
    const size_t nrows = rows.size();
    const size_t ncols = nrows > 0 ? rows.front().size() : 0;
    std::vector<const char *> cells;
    cells.reserve(nrows * ncols);
    for (const Row &row : rows)
        for (const Value &v : row) cells.push_back(v ? v->c_str() : nullptr);
    const char *const *data = cells.data();
    guarded([fcinfo, data, nrows, ncols] {
        InitMaterializedSRF(fcinfo, 0);
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
