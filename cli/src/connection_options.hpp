// How every command finds its database; bound once in main and shared by all commands.
#pragma once

#include <string>

namespace pgmig {

struct ConnectionOptions {
    // libpq conninfo ("host=... dbname=...") or URL ("postgresql://..."), from --db or else
    // DATABASE_URL. Empty means libpq's own PG* environment variables decide.
    std::string db;
};

}  // namespace pgmig
