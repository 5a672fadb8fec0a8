// Text from outside (file names, file contents, libpq messages) on its way to a terminal: a
// control character printed raw can move the cursor, retitle the window or hide what follows.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgmig::migrations {

// The length of the well-formed UTF-8 character that starts at `text[at]` (1 to 4), or 0 when
// the bytes there are not UTF-8 (a stray continuation byte, a truncated sequence, an overlong
// form, a surrogate, or a code point above U+10FFFF: what PostgreSQL's UTF8 refuses too).
size_t utf8_char_length(std::string_view text, size_t at);

// The first character of `text` that must not reach a terminal raw, escaped ("\x1b",
// "\u202e", a byte that is not UTF-8 as "\xe9"), or an empty string when there is none:
// C0 controls and DEL, C1 controls (U+0080-U+009F), the bidirectional formatting characters
// (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), and bytes that are not UTF-8.
std::string first_unsafe_character(std::string_view text);

// `text` with every such character escaped as above. With `keep_line_breaks`, "\n" and "\t"
// stay (multi-line messages); otherwise they are escaped too (names).
std::string escape_for_terminal(std::string_view text, bool keep_line_breaks = false);

}  // namespace pgmig::migrations
