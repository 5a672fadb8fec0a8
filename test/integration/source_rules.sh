#!/usr/bin/env bash
# The C++/PostgreSQL boundary as rules on the sources (docs/architecture.md): PostgreSQL's
# headers are included only under extension/src/pg/; PostgreSQL calls that can raise an
# error (parser, SPI, ereport, palloc, memory contexts, PG_TRY) appear only there.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
src="$here/../../extension/src"
outside=$(ls "$src"/*.cpp "$src"/*.hpp)
headers=$(grep -lE '^#include "(postgres|fmgr|funcapi|miscadmin)\.h"|^#include "(access|catalog|commands|executor|nodes|parser|storage|tcop|utils|lib|common|mb)/' $outside 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
check_eq "no file outside extension/src/pg/ includes a PostgreSQL header" "" "$headers"
calls=$(grep -nE '\b(raw_parser|SPI_[a-z_]+|ereport|elog|palloc0?|MemoryContext[A-Za-z]*|PG_TRY|PG_CATCH|construct_array|get_fn_expr_argtype|IsTransactionBlock|CopyErrorData)\s*\(' $outside 2>/dev/null | sed "s|$src/||" | tr '\n' ' ')
check_eq "no file outside extension/src/pg/ calls PostgreSQL functions that can raise" "" "$calls"
pure=$(grep -L 'cpp_only.hpp' "$src"/checksum.cpp "$src"/retry_policy.cpp "$src"/migration_version.cpp "$src"/script_directives.cpp | xargs -r -n1 basename | tr '\n' ' ')
check_eq "the logic shared with the CLI includes cpp_only.hpp (compile-time guard)" "" "$pure"
guard=$(grep -c 'PG_exception_stack != exception_stack' "$src/pg/error.hpp")
check_eq "guarded() checks the exception stack after each call" "1" "$guard"
finish_checks
