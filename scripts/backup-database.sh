#!/usr/bin/env bash
# Backs up one service database with `pg_dump --format=custom` (decision 0029):
#
#   scripts/backup-database.sh DATABASE [OUTPUT_FILE]
#
# DATABASE is a service's database (puhui_merchant_onboarding, puhui_discount_rules,
# puhui_transaction_settlement, puhui_console, or what DATABASE_NAME says) on the server of
# POSTGRES_URL (the services' setting: a server URL without a database; default
# postgres://postgres@127.0.0.1:5432). OUTPUT_FILE defaults to
# ${BACKUP_DIRECTORY:-.}/DATABASE-<UTC time>.dump and is never overwritten.
#
# Beside the dump it writes two small files that restore-database.sh checks:
#   OUTPUT_FILE.sha256  the dump's SHA-256 (a truncated or altered copy is refused)
#   OUTPUT_FILE.rows    every table's row count, counted in the snapshot pg_dump read, so a
#                       restore can prove it holds exactly the rows that were backed up.
# The dump is written to OUTPUT_FILE.partial and renamed only once pg_restore can list it, so a
# file under the final name is always a whole archive. A password belongs in PGPASSWORD or
# ~/.pgpass rather than in POSTGRES_URL (pg_dump's command line is visible to `ps`); the tools
# never prompt (--no-password), they fail.
set -euo pipefail

readonly PROGRAM=backup-database

fail() {
  echo "$PROGRAM: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/backup-database.sh DATABASE [OUTPUT_FILE]  (server: POSTGRES_URL)" >&2
  exit 2
}

# shellcheck source=lib/database.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/database.sh"

[ $# -ge 1 ] && [ $# -le 2 ] || usage
database="$1"
[[ "$database" =~ $DATABASE_NAME_SHAPE ]] || fail "'$database' is not a database name (a-z, 0-9, _; at most 63)"
output="${2:-${BACKUP_DIRECTORY:-.}/$database-$(date -u +%Y%m%dT%H%M%SZ).dump}"
# Checked here, in this shell: inside $(…) below, fail would end only the subshell.
database_url postgres >/dev/null
for tool in psql pg_dump pg_restore sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install -y postgresql-client)"
done
[ ! -e "$output" ] || fail "$output exists: a backup never overwrites one"
[ -d "$(dirname "$output")" ] || fail "no directory $(dirname "$output") for $output"

exists="$(psql -XAtqw -d "$(database_url postgres)" \
  -c "SELECT count(*) FROM pg_database WHERE datname = '$database'")" ||
  fail "cannot reach the Postgres server at $(server_label) (POSTGRES_URL)"
[ "$exists" = 1 ] || fail "no database '$database' on $(server_label): nothing backed up"
major="$(server_major)" || fail "cannot read the server version of $(server_label)"
pg_dump_tool="$(client_tool pg_dump "$major")" || exit 1
pg_restore_tool="$(client_tool pg_restore "$major")" || exit 1

started_s=$SECONDS
partial="$output.partial"
trap 'rm -f "$partial" "$partial.rows"' EXIT

# One read-only snapshot for the dump and the row counts: pg_dump reads the snapshot this psql
# session exported, which lives as long as its transaction stays open.
# Its descriptors and pid are copied at once: bash unsets SNAPSHOT when the coprocess ends.
coproc SNAPSHOT { psql -XAtqw -v ON_ERROR_STOP=1 -d "$(database_url "$database")" 2>&1; }
snapshot_in="${SNAPSHOT[1]}"
snapshot_out="${SNAPSHOT[0]}"
snapshot_pid="$SNAPSHOT_PID"
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" >&"$snapshot_in"
read -r -t 30 snapshot <&"$snapshot_out" || fail "no snapshot from '$database'"
[[ "$snapshot" =~ ^[0-9A-F-]+$ ]] || fail "no snapshot from '$database': $snapshot"

"$pg_dump_tool" --no-password --format=custom --snapshot="$snapshot" --file="$partial" \
  --dbname="$(database_url "$database")" || fail "pg_dump of '$database' failed: nothing backed up"

echo "$ROW_COUNTS_SQL SELECT 'end-of-row-counts';" >&"$snapshot_in"
: >"$partial.rows"
line=''
while read -r -t 60 line <&"$snapshot_out"; do
  [ "$line" = end-of-row-counts ] && break
  [[ "$line" == *\|* ]] || fail "counting the rows of '$database' failed: $line"
  echo "$line" >>"$partial.rows"
done
[ "$line" = end-of-row-counts ] || fail "counting the rows of '$database' did not finish"
echo "COMMIT;" >&"$snapshot_in"
exec {snapshot_in}>&-
wait "$snapshot_pid" || true

tables="$("$pg_restore_tool" --list "$partial" | grep -c ' TABLE DATA ' || true)"
[ "$tables" -eq "$(wc -l <"$partial.rows")" ] ||
  fail "the dump lists $tables tables' data, the snapshot counted $(wc -l <"$partial.rows") tables"

mv "$partial.rows" "$output.rows"
mv "$partial" "$output"
(cd "$(dirname "$output")" && sha256sum "$(basename "$output")" >"$(basename "$output").sha256")
trap - EXIT
rows="$(awk -F'|' '{ sum += $2 } END { print sum + 0 }' "$output.rows")"
echo "$PROGRAM: '$database' → $output ($tables tables, $rows rows, $(stat -c %s "$output") bytes, $((SECONDS - started_s)) s)"
