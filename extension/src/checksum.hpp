// Content checksums of migration scripts, shared by the extension and the pgmig CLI so that
// both sides always agree on whether a file is "the same" migration.
#pragma once

#include <string>
#include <string_view>

namespace pgm {

// The text a checksum is taken over: a leading UTF-8 byte order mark removed and every CRLF
// or lone CR turned into LF, so a Windows checkout of the same file is not "modified".
std::string normalize_script(std::string_view script);

// Lower-case hex SHA-256 of normalize_script(script).
std::string script_checksum(std::string_view script);

// Lower-case hex SHA-256 of the bytes as given.
std::string sha256_hex(std::string_view bytes);

}  // namespace pgm
