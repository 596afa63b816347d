# Shared by scripts/backup-database.sh and scripts/restore-database.sh (decision 0029): the
# server of POSTGRES_URL, the Postgres client of its version, and every table's row count.
# Sourced after the caller set PROGRAM and defined fail().

# The services' own rule for DATABASE_NAME (libs/service environment.ts): the name is then safe
# to splice into SQL and file names.
readonly DATABASE_NAME_SHAPE='^[a-z_][a-z0-9_]{0,62}$'

# POSTGRES_URL with its path replaced by /$1, its query (sslmode=…) kept.
database_url() {
  local server="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}" query=''
  if [[ "$server" == *\?* ]]; then query="?${server#*\?}"; fi
  server="${server%%\?*}"
  [[ "$server" =~ ^(postgres(ql)?://[^/]*) ]] || fail "POSTGRES_URL must be a postgres:// URL"
  echo "${BASH_REMATCH[1]}/$1$query"
}

# The server's address for messages: never the user's password.
server_label() {
  database_url postgres | sed -E 's#://[^@/]*@#://#; s#/postgres(\?.*)?$##'
}

# pg_dump and pg_restore refuse a server of a later major version than theirs: use Debian's client
# of the server's version (/usr/lib/postgresql/N/bin) when the default one is older.
client_tool() {
  local tool="$1" server_major="$2" own_major
  own_major="$("$tool" --version | awk '{ split($3, version, "."); print version[1] + 0 }')"
  if [ "$own_major" -ge "$server_major" ]; then
    command -v "$tool"
  elif [ -x "/usr/lib/postgresql/$server_major/bin/$tool" ]; then
    echo "/usr/lib/postgresql/$server_major/bin/$tool"
  else
    fail "$tool $own_major cannot work with Postgres $server_major at $(server_label): install postgresql-client-$server_major"
  fi
}

server_major() {
  psql -XAtqw -d "$(database_url postgres)" -c 'SELECT current_setting('"'"'server_version_num'"'"')::int / 10000'
}

# Every table of the public schema with its exact row count, "table|rows", sorted.
readonly ROW_COUNTS_SQL="SELECT table_name || '|' || (xpath('/row/c/text()', query_to_xml(
  format('SELECT count(*) AS c FROM public.%I', table_name), false, true, '')))[1]::text
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name;"
