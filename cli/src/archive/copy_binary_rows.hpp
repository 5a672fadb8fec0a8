// Counts the rows of a PostgreSQL COPY ... (FORMAT binary) stream fed in pieces of any size,
// checking its framing on the way: `pgmig backup verify` uses it to check a table's row
// count without a database. Pure, so malformed streams are unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pgmig::archive {

class CopyBinaryRowCounter {
  public:
    void feed(const unsigned char *data, size_t size);
    // Throws ArchiveError unless the stream ended exactly after its trailer.
    void finish() const;
    uint64_t rows() const { return rows_; }
    // Fields in every row; -1 before the first row.
    int fields_per_row() const { return fields_per_row_; }

  private:
    enum class State {
        signature,
        flags,
        extension_length,
        extension,
        tuple_start,
        field_length,
        field_data,
        done
    };
    void fail(const std::string &why) const;
    State state_ = State::signature;
    uint64_t offset_ = 0;  // bytes consumed, for messages
    uint32_t need_ = 11;   // bytes still wanted by the current state
    unsigned char word_[4] = {0, 0, 0, 0};
    uint32_t word_have_ = 0;
    uint64_t skip_ = 0;  // bytes of field data or header extension still to skip
    int fields_left_ = 0;
    int fields_per_row_ = -1;  // every row of a table has the same field count
    uint64_t rows_ = 0;
};

}  // namespace pgmig::archive
