#!/usr/bin/env bash
# pgmig against hostile files and connection strings (issue 9): a NUL byte, bytes that are
# not UTF-8, a symlink to a secret outside the folder, a file name with a terminal escape, a
# file over the size limit, a seed with COMMIT, a URL whose password has a bad "%". Each is
# refused before anything reaches the server, and the message names the file (escaped) but
# never a secret. Files with a BOM, CRLF line endings, no final newline, and empty seeds work.
# PGMIG=/path/to/pgmig runs the checks against another binary (an older one fails them).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/assert.sh"
pgmig=${PGMIG:-$here/../../build/pgmig}
db=pgm_cli_hostile
dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
export PGDATABASE=$db
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
q() { psql -X -qtA -c "$1"; }
# run CMD...: the exit code in $rc, stdout and stderr together in $out.
run() {
    set +e
    out=$("$@" 2>&1)
    rc=$?
    set -e
}
has() { case "$out" in *"$1"*) echo yes ;; *) echo no ;; esac; }
has_raw_control() { if printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]'; then echo yes; else echo no; fi; }
registered() { q "SELECT count(*) FROM pg_migrate.migration"; }
reset_folder() { rm -rf migrations && mkdir migrations; }

run "$pgmig" init
check_eq "pgmig init" 0 "$rc"

# --- A NUL byte: refused with file and offset; before, it was registered cut short at the
# NUL and then reported modified forever.
reset_folder
printf 'CREATE TABLE nul_t (a int);\nSELECT 1;\0SELECT 2;\n' >migrations/1_nul.up.sql
run "$pgmig" up
check_eq "NUL: up fails" 1 "$rc"
check_eq "NUL: the message names the file and the byte offset" yes \
    "$(has '1_nul.up.sql: contains a NUL byte at line 2, byte offset 37')"
check_eq "NUL: nothing was registered" 0 "$(registered)"
run "$pgmig" status
check_eq "NUL: status lists it as a problem" yes "$(has 'problem: 1_nul.up.sql: contains a NUL byte')"

# --- Not UTF-8: refused with file, line and offset, before connecting.
reset_folder
printf 'CREATE TABLE latin_t (a text);\nINSERT INTO latin_t VALUES (\047caf\351\047);\n' \
    >migrations/2_latin.up.sql
run "$pgmig" up
check_eq "non-UTF-8: up fails" 1 "$rc"
check_eq "non-UTF-8: names file, line, byte offset and says UTF-8" yes \
    "$(has '2_latin.up.sql: is not valid UTF-8 at line 2, byte offset 63 (byte 0xe9); script files must be UTF-8')"
check_eq "non-UTF-8: not the server's anonymous invalid byte sequence" no "$(has 'invalid byte sequence')"
check_eq "non-UTF-8: nothing was registered" 0 "$(registered)"

# --- A symlink to a secret outside the folder: refused unread, the secret is not quoted.
reset_folder
# The first word is the secret: a parse error quotes the token it stops at.
echo 'TopSecretPassw0rd:x:0:0:root:/root:/bin/bash' >"$work/passwd"
ln -s "$work/passwd" migrations/3_leak.up.sql
run "$pgmig" up
check_eq "symlink outside: up fails" 1 "$rc"
check_eq "symlink outside: refused, naming the link" yes \
    "$(has '3_leak.up.sql: is a symbolic link to a file outside the folder')"
check_eq "symlink outside: the secret is not in the output" no "$(has 'TopSecretPassw0rd')"
check_eq "symlink outside: nothing was registered" 0 "$(registered)"

# A symlink to a file inside the folder is followed.
reset_folder
mkdir migrations/shared
echo 'CREATE TABLE linked_t (a int);' >migrations/shared/linked.sql
ln -s shared/linked.sql migrations/4_linked.up.sql
run "$pgmig" up
check_eq "symlink inside: up applies it" 0 "$rc"
check_eq "symlink inside: its table exists" t "$(q "SELECT to_regclass('linked_t') IS NOT NULL")"

# --- A file name with a terminal escape: refused, and shown escaped, never raw.
reset_folder
echo 'SELECT 1;' >"migrations/5_a"$'\e'"[31mred.up.sql"
echo 'SELECT 1;' >"migrations/x"$'\e'"]0;pwned"$'\a'".sql"
run "$pgmig" up
check_eq "escape in a name: up fails" 1 "$rc"
check_eq "escape in a name: no raw control character in the output" no "$(has_raw_control)"
check_eq "escape in a name: the name is shown escaped" yes \
    "$(has '5_a\x1b[31mred.up.sql: the file name contains the control character \x1b')"
check_eq "escape in a name: an unrecognised .sql name is shown escaped too" yes \
    "$(has 'x\x1b]0;pwned\x07.sql')"
run "$pgmig" status
check_eq "escape in a name: status prints no raw control character" no "$(has_raw_control)"

# --- A file over the size limit (sparse, so nothing is written): refused from its size.
reset_folder
truncate -s 65M migrations/6_big.up.sql
start=$(date +%s)
run "$pgmig" up
check_eq "oversized: up fails" 1 "$rc"
check_eq "oversized: refused for its size, naming the limit" yes \
    "$(has '6_big.up.sql: is 68157440 bytes, over the limit of 67108864 bytes (64 MiB)')"
check_eq "oversized: refused at once (not read)" yes "$([ $(($(date +%s) - start)) -lt 5 ] && echo yes || echo no)"
rm -f migrations/6_big.up.sql

# --- Files that must keep working: a BOM, CRLF, no final newline; the BOM is not sent.
reset_folder
printf '\357\273\277CREATE TABLE bom_t (a int);\r\nINSERT INTO bom_t VALUES (1);' \
    >migrations/7_bom_crlf.up.sql
printf '\357\273\277DROP TABLE bom_t;\r\n' >migrations/7_bom_crlf.down.sql
run "$pgmig" up
check_eq "BOM, CRLF, no final newline: up applies it" 0 "$rc"
check_eq "BOM: the registered script does not start with it" f \
    "$(q "SELECT starts_with(up_sql, U&'\FEFF') FROM pg_migrate.migration WHERE version = '7'")"
check_eq "BOM: status says applied, not modified" applied \
    "$("$pgmig" status --json | python3 -c 'import json,sys; print([m["state"] for m in json.load(sys.stdin)["migrations"] if m["version"]=="7"][0])')"

# --- Seeds: COMMIT in a seed is refused before any seed runs.
mkdir -p seeds
echo "CREATE TABLE seed_first (a int);" >seeds/01_first.sql
printf 'CREATE TABLE seed_half (a int);\nCOMMIT;\nSELECT 1/0;\n' >seeds/02_commit.sql
run "$pgmig" seed
check_eq "seed COMMIT: seed fails" 1 "$rc"
check_eq "seed COMMIT: names the file and the statement" yes \
    "$(has 'seed file 02_commit.sql contains transaction control: statement 2 (line 2) is COMMIT')"
check_eq "seed COMMIT: the statement before COMMIT did not run" f "$(q "SELECT to_regclass('seed_half') IS NOT NULL")"
check_eq "seed COMMIT: the seed before it did not run either" f "$(q "SELECT to_regclass('seed_first') IS NOT NULL")"
check_eq "seed COMMIT: nothing recorded" 0 "$(q "SELECT count(*) FROM pg_migrate.seed")"
run "$pgmig" seed --dry-run
check_eq "seed COMMIT: a dry run refuses it too" 1 "$rc"
printf 'BEGIN;\nINSERT INTO x VALUES (1);\nEND;\n' >seeds/02_commit.sql
run "$pgmig" seed
check_eq "seed BEGIN/END: refused" yes "$(has 'statement 1 (line 1) is BEGIN')"

# A role that may not call migrate_statements() cannot have its seeds checked: refused too.
q "DROP ROLE IF EXISTS pgm_hostile_seeder" >/dev/null 2>&1 || true
q "CREATE ROLE pgm_hostile_seeder LOGIN; GRANT USAGE ON SCHEMA pg_migrate TO pgm_hostile_seeder;
   GRANT SELECT, INSERT, UPDATE ON pg_migrate.seed TO pgm_hostile_seeder;
   GRANT CREATE ON SCHEMA public TO pgm_hostile_seeder" >/dev/null
printf 'CREATE TABLE seed_unchecked (a int);\nCOMMIT;\n' >seeds/02_commit.sql
run env PGUSER=pgm_hostile_seeder "$pgmig" seed
check_eq "seed unchecked: refused without EXECUTE on migrate_statements" 1:yes \
    "$rc:$(has 'cannot check seed file 01_first.sql for transaction control (no seed file was run)')"
check_eq "seed unchecked: nothing ran" f "$(q "SELECT to_regclass('seed_unchecked') IS NOT NULL")"
q "DROP OWNED BY pgm_hostile_seeder; DROP ROLE pgm_hostile_seeder" >/dev/null

# Empty seeds, seeds with a BOM and CRLF work; a symlink out of the seed folder does not.
rm seeds/02_commit.sql
: >seeds/02_empty.sql
printf '\357\273\277CREATE TABLE seed_bom (a int);\r\n-- end' >seeds/03_bom.sql
run "$pgmig" seed
check_eq "seeds: empty and BOM files apply" 0 "$rc"
check_eq "seeds: three recorded" 3 "$(q "SELECT count(*) FROM pg_migrate.seed")"
ln -s "$work/passwd" seeds/04_leak.sql
run "$pgmig" seed
check_eq "seed symlink outside: refused" 1 "$rc"
check_eq "seed symlink outside: names it, not the secret" yes:no \
    "$(has '04_leak.sql: is a symbolic link to a file outside the folder'):$(has TopSecretPassw0rd)"
rm seeds/04_leak.sql

# --- A URL whose password has a "%" that is not an escape: never printed.
secret='Sup3r%zzSecret'
url="postgresql://deploy:$secret@127.0.0.1:1/app"
run "$pgmig" --db "$url" status
check_eq "bad %: --db fails" 1 "$rc"
check_eq "bad %: the password is not in the output (--db)" no "$(has 'Sup3r')"
check_eq "bad %: says what is wrong and where" yes \
    "$(has 'the connection URL in --db has invalid percent-encoding')"
run env DATABASE_URL="$url" "$pgmig" status
check_eq "bad %: the password is not in the output (DATABASE_URL)" no "$(has 'Sup3r')"
check_eq "bad %: names DATABASE_URL" yes "$(has 'the connection URL in DATABASE_URL has invalid percent-encoding')"
run "$pgmig" --db "postgresql://deploy:p@Sup3rSecret@127.0.0.1:1/app" status
check_eq "unencoded @: the rest of the password is not in the output" no "$(has 'Sup3r')"
run "$pgmig" --db "host=127.0.0.1 port=1 password=Sup3rSecret sslmode=Sup3rSecret" status
check_eq "a password libpq echoes while connecting is hidden" no:yes \
    "$(has 'Sup3r'):$(has 'invalid sslmode value')"

cd /
dropdb "$db"
finish_checks
