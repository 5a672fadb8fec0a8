#!/usr/bin/env bash
# The demo (`make demo`): on a throwaway PostgreSQL 15 cluster, the seed scenario's role
# migration of user_profiles is registered, dry-run, applied and verified; then a
# deliberately failing migration is rolled back by pg_migrate, the data shown unchanged, and
# the log rows printed; the same workflow runs from files with pgmig, and an encrypted backup
# to a local folder restores the table after an accidental DELETE. Installs what is missing
# and builds first; stops what it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source test/lib/deps.sh
source test/lib/cluster.sh

install_dependencies
echo "== building and installing the extension, building pgmig"
make -j2 >/dev/null
make install >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j2 >/dev/null
pgmig="$root/build/pgmig"
work=$(mktemp -d /tmp/pgmig-demo.XXXXXX)
chmod 755 "$work"
trap 'stop_cluster; rm -rf "$work"' EXIT
start_cluster "$work/cluster"
echo "== throwaway PostgreSQL 15 cluster on 127.0.0.1:$PGPORT"
createdb demo
export PGDATABASE=demo

run() { psql -X -v ON_ERROR_STOP=1 --echo-queries -P pager=off "$@"; }

echo
echo "== 1. a user_profiles table with 10,000 users"
run -q <<'SQL'
CREATE EXTENSION pg_migrate;
CREATE TABLE user_profiles (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    role       text NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO user_profiles (email, role, created_at)
SELECT 'user' || g || '@example.com',
       (ARRAY['admin', 'editor', 'viewer', 'viewer', 'guest'])[1 + g % 5],
       now() - (g % 1500) * interval '1 day'
  FROM generate_series(1, 10000) g;
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
SQL

echo
echo "== 2. register the role migration: up, down and verify scripts"
run <<'SQL'
SELECT migrate_register(
  '20261122090000', 'migrate_user_roles',
  $up$
ALTER TABLE user_profiles
  ADD COLUMN previous_role text,
  ADD COLUMN role_migrated_at timestamptz,
  ADD COLUMN seniority_level int;
UPDATE user_profiles
   SET previous_role = role,
       role = CASE role WHEN 'admin'  THEN 'administrator'
                        WHEN 'editor' THEN 'contributor'
                        ELSE 'member' END,
       role_migrated_at = now(),
       seniority_level = CASE WHEN created_at < now() - interval '3 years' THEN 3
                              WHEN created_at < now() - interval '1 year'  THEN 2
                              ELSE 1 END;
$up$,
  $down$
UPDATE user_profiles SET role = previous_role;
ALTER TABLE user_profiles DROP COLUMN previous_role, DROP COLUMN role_migrated_at,
                          DROP COLUMN seniority_level;
$down$,
  $verify$
-- every row migrated, none lost
SELECT count(*) = 10000 AND count(previous_role) = 10000 FROM user_profiles;
-- distributions preserved: each old role maps to exactly one new role
SELECT count(*) FILTER (WHERE previous_role = 'admin')  = count(*) FILTER (WHERE role = 'administrator')
   AND count(*) FILTER (WHERE previous_role = 'editor') = count(*) FILTER (WHERE role = 'contributor')
  FROM user_profiles;
SELECT bool_and(seniority_level BETWEEN 1 AND 3) FROM user_profiles;
$verify$);
SELECT * FROM migrate_execute(dry_run => true);
SQL

echo
echo "== 3. before it runs: safety checks, lint, and a snapshot of user_profiles"
run <<'SQL'
SELECT check_name, status, critical, detail FROM migrate_preflight();
SELECT statement_number, rule, severity, message
  FROM migrate_lint((SELECT up_sql FROM pg_migrate.migration WHERE version = '20261122090000'));
SELECT snapshot_create('user_profiles', 'before migrate_user_roles') AS snapshot_id;
SELECT id, source, label, row_count, pg_size_pretty(size_bytes) AS size, checksum FROM snapshot_list();
SQL

echo
echo "== 4. apply it"
run <<'SQL'
SELECT version, name, status, duration_ms FROM migrate_execute();
SELECT previous_role, role, count(*) FROM user_profiles GROUP BY 1, 2 ORDER BY 1;
SELECT seniority_level, count(*) FROM user_profiles GROUP BY 1 ORDER BY 1;
SQL

echo
echo "== 4b. the zero-downtime way to fill a new column: batches of 2,000 rows, a commit after"
echo "==     each, progress visible to other sessions (the old column stays until a later release)"
run <<'SQL'
ALTER TABLE user_profiles ADD COLUMN role_label text;
CALL migrate_backfill('user_profiles', $$role_label = initcap(role)$$, 'role_label IS NULL', batch_size => 2000);
SELECT table_name, status, rows_done, batches, percent, retries FROM migrate_backfill_progress();
SQL

echo
echo "== 5. a migration that fails half way: its first statement changes every row,"
echo "==    its second violates a new constraint. pg_migrate rolls the whole migration back."
run <<'SQL'
CREATE TEMP TABLE before AS SELECT md5(string_agg(u::text, ',' ORDER BY id)) AS digest FROM user_profiles u;
SELECT migrate_register('20261122093000', 'senior_admins',
  $up$
UPDATE user_profiles SET seniority_level = seniority_level + 1 WHERE role = 'administrator';
ALTER TABLE user_profiles ADD CONSTRAINT seniority_level_range CHECK (seniority_level BETWEEN 1 AND 3);
$up$);
SELECT version, name, status, message FROM migrate_execute();
SELECT (SELECT md5(string_agg(u::text, ',' ORDER BY id)) FROM user_profiles u) = digest
       AS data_exactly_as_before FROM before;
SQL

echo
echo "== 6. what the logs recorded"
run <<'SQL'
\x on
SELECT id, version, name, operation, status, phase, sqlstate, message, detail,
       failed_statement, statement_number, statement_position, duration_ms,
       session_user_name, application_name, extension_version
  FROM pg_migrate.execution_log ORDER BY id;
SELECT * FROM pg_migrate.rollback_log;
\x off
SELECT version, name, state, applied_by, last_error FROM migrate_status();
SQL

echo
echo "== 7. after it: validation and the health report"
run <<'SQL'
SELECT validation_check_add('business.every_profile_has_a_role', 'business',
                            'SELECT id FROM user_profiles WHERE role IS NULL OR seniority_level IS NULL');
SELECT check_name, category, status, violations, sample FROM migrate_validate();
SELECT jsonb_pretty(migrate_health());
SQL

echo
echo "== 8. the snapshot is intact, and would put the original roles back in one transaction"
run <<'SQL'
SELECT snapshot_id, ok, expected_rows, actual_rows, message FROM snapshot_verify(1);
BEGIN;
SELECT version, status FROM migrate_rollback();   -- the down script drops the new columns
ALTER TABLE user_profiles DROP COLUMN role_label;  -- back to the snapshotted shape
SELECT snapshot_restore(1) AS rows_restored;
SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role;
ROLLBACK;  -- the demo keeps the migrated state
SQL
echo
echo "== 9. the same workflow from files, with pgmig, in a second database"
createdb demo_files
export PGDATABASE=demo_files
psql -X -q -c "CREATE TABLE user_profiles (id bigint PRIMARY KEY, email text NOT NULL, role text NOT NULL)" \
    -c "INSERT INTO user_profiles SELECT g, 'user' || g || '@example.com', (ARRAY['admin', 'editor', 'viewer'])[1 + g % 3] FROM generate_series(1, 10000) g"
cd "$work"
echo "\$ pgmig init"; "$pgmig" init
cat >migrations/20261122090000_migrate_user_roles.up.sql <<'SQL'
-- pgmig:snapshot user_profiles
ALTER TABLE user_profiles ADD COLUMN previous_role text;
UPDATE user_profiles SET previous_role = role,
       role = CASE role WHEN 'admin' THEN 'administrator' WHEN 'editor' THEN 'contributor' ELSE 'member' END;
SQL
cat >migrations/20261122090000_migrate_user_roles.verify.sql <<'SQL'
SELECT count(*) = count(previous_role) FROM user_profiles;
SQL
cat >migrations/20261122091000_index_user_profiles_role.up.sql <<'SQL'
CREATE INDEX CONCURRENTLY user_profiles_role_idx ON user_profiles (role);
SQL
echo 'DROP INDEX CONCURRENTLY user_profiles_role_idx;' >migrations/20261122091000_index_user_profiles_role.down.sql
echo "\$ ls migrations"; ls migrations
echo "\$ pgmig status"; "$pgmig" status
echo "\$ pgmig up --dry-run"; "$pgmig" up --dry-run
echo "\$ pgmig up"; "$pgmig" up
echo "\$ pgmig status"; "$pgmig" status
echo "\$ pgmig down --steps 1 --dry-run"; "$pgmig" down --steps 1 --dry-run
echo "\$ pgmig testdata generate --table user_profiles --rows 5000"
"$pgmig" testdata generate --table user_profiles --rows 5000
echo "\$ pgmig monitor --once"; "$pgmig" monitor --once
echo "\$ pgmig testdata cleanup --all"; "$pgmig" testdata cleanup --all

echo
echo "== 10. an encrypted backup to a local folder, an accident, and the restore"
head -c 32 /dev/urandom >"$work/backup.key"
echo "\$ pgmig backup create --to file://$work/backups --key-file backup.key"
id=$("$pgmig" backup create --to "file://$work/backups" --key-file "$work/backup.key" --label demo)
echo "$id"
echo "\$ pgmig backup verify $id ..."; "$pgmig" backup verify "$id" --from "file://$work/backups" --key-file "$work/backup.key"
echo "\$ pgmig backup list ..."; "$pgmig" backup list --from "file://$work/backups" --key-file "$work/backup.key"
run -c "DELETE FROM user_profiles WHERE role = 'member'" -c "SELECT count(*) AS users_left FROM user_profiles"
echo "\$ pgmig backup restore $id ... --dry-run"
"$pgmig" backup restore "$id" --from "file://$work/backups" --key-file "$work/backup.key" --dry-run
echo "\$ pgmig backup restore $id ..."
"$pgmig" backup restore "$id" --from "file://$work/backups" --key-file "$work/backup.key"
run -c "SELECT role, count(*) FROM user_profiles GROUP BY role ORDER BY role"
cd "$root"

echo
echo "Demo finished: the role migration is applied and verified, with a verified snapshot of"
echo "the data before it; the failed migration left no trace in user_profiles and is on record"
echo "in pg_migrate.execution_log and pg_migrate.rollback_log; an encrypted, verified backup"
echo "brought user_profiles back after an accidental DELETE."
