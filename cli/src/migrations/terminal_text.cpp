#include "migrations/terminal_text.hpp"

#include <cstdint>
#include <cstdio>

namespace pgmig::migrations {

namespace {

uint32_t decode(std::string_view text, size_t at, size_t length) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[at + i]); };
    switch (length) {
        case 1:
            return byte(0);
        case 2:
            return (byte(0) & 0x1Fu) << 6 | (byte(1) & 0x3Fu);
        case 3:
            return (byte(0) & 0x0Fu) << 12 | (byte(1) & 0x3Fu) << 6 | (byte(2) & 0x3Fu);
        default:
            return (byte(0) & 0x07u) << 18 | (byte(1) & 0x3Fu) << 12 | (byte(2) & 0x3Fu) << 6 |
                   (byte(3) & 0x3Fu);
    }
}

bool unsafe_code_point(uint32_t cp, bool keep_line_breaks) {
    if (keep_line_breaks && (cp == '\n' || cp == '\t')) return false;
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
           cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string escaped_byte(unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    return buf;
}

std::string escaped_code_point(uint32_t cp) {
    if (cp < 0x80) return escaped_byte(static_cast<unsigned char>(cp));
    char buf[12];
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    return buf;
}

// Calls `out(piece, unsafe)` for each safe run and each unsafe character of `text`, in order.
template <typename Out>
void scan(std::string_view text, bool keep_line_breaks, Out out) {
    size_t run = 0;
    size_t i = 0;
    while (i < text.size()) {
        const size_t n = utf8_char_length(text, i);
        std::string escaped;
        if (n == 0)
            escaped = escaped_byte(static_cast<unsigned char>(text[i]));
        else if (unsafe_code_point(decode(text, i, n), keep_line_breaks))
            escaped = escaped_code_point(decode(text, i, n));
        if (escaped.empty()) {
            i += n;
            continue;
        }
        if (!out(text.substr(run, i - run), escaped)) return;
        i += n == 0 ? 1 : n;
        run = i;
    }
    out(text.substr(run), std::string());
}

}  // namespace

size_t utf8_char_length(std::string_view text, size_t at) {
    if (at >= text.size()) return 0;
    const auto b0 = static_cast<unsigned char>(text[at]);
    if (b0 < 0x80) return 1;
    size_t length;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        length = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        length = 3;
        if (b0 == 0xE0) lo = 0xA0;  // overlong
        if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        length = 4;
        if (b0 == 0xF0) lo = 0x90;  // overlong
        if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;  // a continuation byte, an overlong 0xC0/0xC1 lead, or 0xF5-0xFF
    }
    if (at + length > text.size()) return 0;
    const auto b1 = static_cast<unsigned char>(text[at + 1]);
    if (b1 < lo || b1 > hi) return 0;
    for (size_t k = 2; k < length; ++k) {
        const auto b = static_cast<unsigned char>(text[at + k]);
        if (b < 0x80 || b > 0xBF) return 0;
    }
    return length;
}

std::string first_unsafe_character(std::string_view text) {
    std::string found;
    scan(text, false, [&found](std::string_view, const std::string &escaped) {
        found = escaped;
        return false;
    });
    return found;
}

std::string escape_for_terminal(std::string_view text, bool keep_line_breaks) {
    std::string out;
    out.reserve(text.size());
    scan(text, keep_line_breaks, [&out](std::string_view safe, const std::string &escaped) {
        out.append(safe).append(escaped);
        return true;
    });
    return out;
}

}  // namespace pgmig::migrations
