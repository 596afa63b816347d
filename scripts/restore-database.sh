#!/usr/bin/env bash
# Restores a backup of backup-database.sh into a NEW database and checks it (decision 0029):
#
#   scripts/restore-database.sh DUMP_FILE NEW_DATABASE
#
# on the server of POSTGRES_URL (default postgres://postgres@127.0.0.1:5432). It never restores
# over a database that exists: restore beside the live one, check, then point the service's
# DATABASE_NAME at the new one (docs/operations.md, "Back up and restore").
#
# Before: the dump's SHA-256 against DUMP_FILE.sha256 (when that file is there) and that
# pg_restore can read it. The restore itself is one transaction (--single-transaction
# --exit-on-error): all of it or, after an error, nothing, and the new database is dropped again.
# Objects are owned by the role of POSTGRES_URL (--no-owner --no-privileges): the services connect
# as the role that owns their database. After: ANALYZE (a dump carries no planner statistics),
# every table's row count against DUMP_FILE.rows (the counts of the dump's own snapshot), and in
# a ledger database (one with ledger_transfers) the ledger: every transfer positive between two
# accounts, Σ debits = Σ credits = Σ transfers (the trial balance reads zero), and every account's
# totals equal to the sum of its entries. A failed check exits 3 and leaves the database there to
# be looked at; nothing points at it until someone changes DATABASE_NAME.
set -euo pipefail

readonly PROGRAM=restore-database

fail() {
  echo "$PROGRAM: $*" >&2
  exit 1
}

check_failed() {
  echo "$PROGRAM: CHECK FAILED: $* (database '$database' left for inspection; drop it when done)" >&2
  exit 3
}

usage() {
  echo "usage: scripts/restore-database.sh DUMP_FILE NEW_DATABASE  (server: POSTGRES_URL)" >&2
  exit 2
}

# shellcheck source=lib/database.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/database.sh"

# One query's rows, unaligned, on the new database.
query() {
  psql -XAtqw -v ON_ERROR_STOP=1 -d "$(database_url "$database")" -c "$1"
}


# The ledger of DESIGN §5, read back: transfers that are not a positive amount between two
# accounts, the three sums of the trial balance, and accounts whose kept totals (the transfer
# trigger's) differ from their entries. One line: accounts|transfers|bad|debits|credits|moved|off.
readonly LEDGER_SQL="SELECT
  (SELECT count(*) FROM ledger_accounts) || '|' ||
  (SELECT count(*) FROM ledger_transfers) || '|' ||
  (SELECT count(*) FROM ledger_transfers WHERE amount_minor <= 0 OR debit_account = credit_account) || '|' ||
  (SELECT coalesce(sum(debits_minor), 0) FROM ledger_accounts) || '|' ||
  (SELECT coalesce(sum(credits_minor), 0) FROM ledger_accounts) || '|' ||
  (SELECT coalesce(sum(amount_minor), 0) FROM ledger_transfers) || '|' ||
  (SELECT count(*) FROM ledger_accounts a
   WHERE a.debits_minor <> coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE debit_account = a.account_code), 0)
      OR a.credits_minor <> coalesce((SELECT sum(amount_minor) FROM ledger_transfers WHERE credit_account = a.account_code), 0));"

[ $# -eq 2 ] || usage
dump="$1"
database="$2"
[[ "$database" =~ $DATABASE_NAME_SHAPE ]] || fail "'$database' is not a database name (a-z, 0-9, _; at most 63)"
# Checked here, in this shell: inside $(…) below, fail would end only the subshell.
database_url postgres >/dev/null
for tool in psql pg_restore sha256sum; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install -y postgresql-client)"
done
[ -f "$dump" ] && [ -r "$dump" ] || fail "no dump file $dump: nothing restored"
if [ -f "$dump.sha256" ]; then
  (cd "$(dirname "$dump")" && sha256sum --check --status "$(basename "$dump").sha256") ||
    fail "$dump does not match $dump.sha256 (truncated or altered copy): nothing restored"
else
  echo "$PROGRAM: no $dump.sha256 beside the dump: its integrity is not checked" >&2
fi

exists="$(psql -XAtqw -d "$(database_url postgres)" \
  -c "SELECT count(*) FROM pg_database WHERE datname = '$database'")" ||
  fail "cannot reach the Postgres server at $(server_label) (POSTGRES_URL)"
[ "$exists" = 0 ] ||
  fail "database '$database' exists on $(server_label): restore into a new database, then point DATABASE_NAME at it"
major="$(server_major)" || fail "cannot read the server version of $(server_label)"
pg_restore_tool="$(client_tool pg_restore "$major")" || exit 1
listed="$("$pg_restore_tool" --list "$dump" 2>&1 >/dev/null)" ||
  fail "$dump is not an archive $pg_restore_tool can read (${listed%%$'\n'*}): nothing restored"

started_s=$SECONDS
psql -XAtqw -v ON_ERROR_STOP=1 -d "$(database_url postgres)" -c "CREATE DATABASE \"$database\"" >/dev/null ||
  fail "cannot create database '$database'"
if ! "$pg_restore_tool" --no-password --exit-on-error --single-transaction --no-owner --no-privileges \
  --dbname="$(database_url "$database")" "$dump"; then
  psql -XAtqw -d "$(database_url postgres)" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null || true
  fail "pg_restore of $dump failed; '$database' dropped again: nothing restored"
fi
query 'ANALYZE' >/dev/null

counts="$(query "$ROW_COUNTS_SQL")"
[ -n "$counts" ] || check_failed "no tables in '$database' after the restore"
tables="$(wc -l <<<"$counts")"
rows="$(awk -F'|' '{ sum += $2 } END { print sum + 0 }' <<<"$counts")"
if [ -f "$dump.rows" ]; then
  differences="$(diff <(cat "$dump.rows") <(echo "$counts") || true)"
  [ -z "$differences" ] || check_failed "row counts differ from $dump.rows (< backed up, > restored):
$differences"
  echo "$PROGRAM: row counts equal the backup's: $tables tables, $rows rows"
else
  echo "$PROGRAM: no $dump.rows beside the dump: $tables tables, $rows rows, not compared" >&2
fi

if [ "$(query "SELECT to_regclass('public.ledger_transfers') IS NOT NULL")" = t ]; then
  IFS='|' read -r accounts transfers bad debits credits moved off <<<"$(query "$LEDGER_SQL")"
  [ "$bad" = 0 ] || check_failed "$bad ledger transfers are not a positive amount between two accounts"
  [ "$debits" = "$credits" ] && [ "$debits" = "$moved" ] ||
    check_failed "trial balance off: debits $debits, credits $credits, transfers $moved (fen)"
  [ "$off" = 0 ] || check_failed "$off of $accounts ledger accounts differ from the sum of their entries"
  echo "$PROGRAM: ledger balanced: $accounts accounts, $transfers transfers, $debits fen each side, every account equal to its entries"
fi
echo "$PROGRAM: $dump → '$database' on $(server_label) in $((SECONDS - started_s)) s; point DATABASE_NAME=$database at it to use it"
