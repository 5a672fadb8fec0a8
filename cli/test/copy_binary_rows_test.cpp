// Counting rows of a COPY (FORMAT binary) stream, the way backup verify checks a table's rows.
#include <gtest/gtest.h>

#include "archive/backup_key.hpp"
#include "archive/copy_binary_rows.hpp"

#include <string>
#include <vector>

using pgmig::archive::ArchiveError;
using pgmig::archive::CopyBinaryRowCounter;

namespace {

void put16(std::string &s, int v) {
    s += static_cast<char>((v >> 8) & 0xff);
    s += static_cast<char>(v & 0xff);
}
void put32(std::string &s, int64_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
}

// A stream as PostgreSQL writes it: signature, flags, header extension, rows, trailer.
std::string stream(const std::vector<std::vector<std::string>> &rows, bool trailer = true,
                   int extension = 0) {
    std::string s("PGCOPY\n\xff\r\n\0", 11);
    put32(s, 0);
    put32(s, extension);
    s += std::string(extension, 'x');
    for (const auto &row : rows) {
        put16(s, static_cast<int>(row.size()));
        for (const auto &field : row) {
            if (field == "NULL") {
                put32(s, -1);
            } else {
                put32(s, static_cast<int64_t>(field.size()));
                s += field;
            }
        }
    }
    if (trailer) put16(s, 0xffff);
    return s;
}

uint64_t count(const std::string &s, size_t piece) {
    CopyBinaryRowCounter c;
    for (size_t i = 0; i < s.size(); i += piece)
        c.feed(reinterpret_cast<const unsigned char *>(s.data()) + i,
               std::min(piece, s.size() - i));
    c.finish();
    return c.rows();
}

}  // namespace

TEST(CopyBinaryRows, counts_rows_with_nulls_and_empty_fields_fed_in_any_pieces) {
    const std::string s = stream({{"1", "alice"}, {"2", "NULL"}, {"3", ""}}, true, 5);
    for (size_t piece : {1, 2, 3, 7, 64, 4096}) EXPECT_EQ(count(s, piece), 3u) << piece;
}

TEST(CopyBinaryRows, an_empty_table_has_zero_rows) {
    EXPECT_EQ(count(stream({}), 1), 0u);
}

TEST(CopyBinaryRows, a_stream_cut_anywhere_is_truncated) {
    const std::string s = stream({{"1", "alice"}, {"2", "bob"}});
    for (size_t cut = 0; cut < s.size(); ++cut)
        EXPECT_THROW(count(s.substr(0, cut), 5), ArchiveError) << "cut at " << cut;
}

TEST(CopyBinaryRows, rejects_a_bad_signature_extra_data_and_inconsistent_rows) {
    std::string s = stream({{"1"}});
    s[0] = 'X';
    EXPECT_THROW(count(s, 4), ArchiveError);
    EXPECT_THROW(count(stream({{"1"}}) + "x", 4), ArchiveError);
    EXPECT_THROW(count(stream({{"1", "2"}, {"3"}}), 4), ArchiveError);
}
