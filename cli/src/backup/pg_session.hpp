// How backup and restore sessions talk to PostgreSQL: in UTF-8, whatever the database's own
// encoding. The manifest is JSON (UTF-8 only), and COPY sends text values (binary format too)
// in the client encoding, so a backup made in UTF-8 restores into a database of any encoding.
#pragma once

#include <string>

namespace pgmig::db {
class Connection;
}

namespace pgmig::backup {

inline constexpr const char *kBackupClientEncoding = "UTF8";

// Sets the session's client_encoding (libpq follows the server's report of it).
void use_client_encoding(db::Connection &conn, const std::string &encoding);

// "public.orders" quoted as the server would (format('%I.%I')), for statements.
std::string quoted_name(db::Connection &conn, const std::string &schema, const std::string &name);

}  // namespace pgmig::backup
