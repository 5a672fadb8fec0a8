// Include this LAST in a file that must not see PostgreSQL (as pg_duckdb's cpp_only_file.hpp):
// the pure logic the CLI shares with the extension. It fails the build when a PostgreSQL
// header came in, directly or through another include. PostgreSQL's own headers belong in
// extension/src/pg/ only (test/integration/source_rules.sh checks the rest).
#pragma once

#ifdef POSTGRES_H
#error "PostgreSQL headers must not be included here: only extension/src/pg/ may call PostgreSQL"
#endif
