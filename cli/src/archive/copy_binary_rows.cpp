#include "archive/copy_binary_rows.hpp"

#include "archive/backup_key.hpp"

#include <cstring>

namespace pgmig::archive {

namespace {
const unsigned char kSignature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
}

void CopyBinaryRowCounter::fail(const std::string &why) const {
    throw ArchiveError("COPY binary stream is malformed at byte " + std::to_string(offset_) + ": " +
                       why);
}

void CopyBinaryRowCounter::feed(const unsigned char *data, size_t size) {
    size_t i = 0;
    while (i < size) {
        if (state_ == State::done) fail("data after the end-of-data marker");
        if (state_ == State::signature) {
            const uint32_t at = 11 - need_;
            if (data[i] != kSignature[at]) fail("not a COPY binary signature");
            ++i;
            ++offset_;
            if (--need_ == 0) {
                state_ = State::flags;
                word_have_ = 0;
            }
            continue;
        }
        if (state_ == State::extension || state_ == State::field_data) {
            const uint64_t take = std::min<uint64_t>(skip_, size - i);
            i += take;
            offset_ += take;
            skip_ -= take;
            if (skip_ == 0) {
                if (state_ == State::extension) {
                    state_ = State::tuple_start;
                } else {
                    state_ = --fields_left_ == 0 ? State::tuple_start : State::field_length;
                }
                word_have_ = 0;
            }
            continue;
        }
        // The other states read a big-endian integer (2 bytes for the field count, else 4).
        const uint32_t width = state_ == State::tuple_start ? 2 : 4;
        word_[word_have_++] = data[i++];
        ++offset_;
        if (word_have_ < width) continue;
        word_have_ = 0;
        const uint32_t value = width == 2
                                   ? (uint32_t(word_[0]) << 8) | word_[1]
                                   : (uint32_t(word_[0]) << 24) | (uint32_t(word_[1]) << 16) |
                                         (uint32_t(word_[2]) << 8) | word_[3];
        switch (state_) {
            case State::flags:
                if (value & 0xffff) fail("unknown critical header flags");
                state_ = State::extension_length;
                break;
            case State::extension_length:
                skip_ = value;
                state_ = value ? State::extension : State::tuple_start;
                break;
            case State::tuple_start: {
                const int16_t count = static_cast<int16_t>(value);
                if (count == -1) {
                    state_ = State::done;
                    break;
                }
                if (count < 0) fail("negative field count");
                if (fields_per_row_ >= 0 && count != fields_per_row_)
                    fail("row " + std::to_string(rows_ + 1) + " has " + std::to_string(count) +
                         " fields, earlier rows " + std::to_string(fields_per_row_));
                fields_per_row_ = count;
                ++rows_;
                fields_left_ = count;
                if (count > 0) state_ = State::field_length;
                break;
            }
            case State::field_length: {
                const int32_t length = static_cast<int32_t>(value);
                if (length == -1) {  // NULL
                    if (--fields_left_ == 0) state_ = State::tuple_start;
                    break;
                }
                if (length < 0) fail("negative field length");
                if (length == 0) {
                    if (--fields_left_ == 0) state_ = State::tuple_start;
                    break;
                }
                skip_ = static_cast<uint64_t>(length);
                state_ = State::field_data;
                break;
            }
            default:
                fail("internal state error");
        }
    }
}

void CopyBinaryRowCounter::finish() const {
    if (state_ != State::done)
        throw ArchiveError("COPY binary stream is truncated after " + std::to_string(rows_) +
                           " rows (no end-of-data marker)");
}

}  // namespace pgmig::archive
