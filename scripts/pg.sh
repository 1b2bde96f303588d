#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks (Debian's postgresql binaries).
#
#   scripts/pg.sh start DIR [PORT]   init a cluster in DIR (if new), start it on 127.0.0.1:PORT
#                                    (default 54329), create database "sales", print its URL
#   scripts/pg.sh stop DIR           stop it (fast shutdown)
#   scripts/pg.sh url DIR            print the URL of a running cluster
#
# PostgreSQL refuses to run as root: as root, the cluster is run by the "postgres" system user
# (made by Debian's package) and DIR is handed to it. Authentication is "trust" on loopback only.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
port="${3:-54329}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url DIR [PORT]" >&2; exit 2; }

bindir=""
for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && bindir="$d"
done
if [ -z "$bindir" ] && command -v initdb >/dev/null 2>&1; then
  bindir="$(dirname "$(command -v initdb)")"
fi
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL is not installed (scripts/sysdeps.sh postgresql)" >&2; exit 3; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

user=sa
db=sales
data="$dir/data"

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
      as_owner "$bindir/initdb" -D "$data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || as_owner "$bindir/initdb" -D "$data" -U "$user" --auth=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A test server: no durability needed, loopback only, socket inside DIR.
    if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      port="$(cat "$dir/port")"
    else
    as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB \
          -c shared_buffers=256MB -c work_mem=64MB -c max_parallel_workers_per_gather=2" >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
    fi
    echo "$port" >"$dir/port"
    if ! as_owner "$bindir/psql" -h "$dir" -p "$port" -U "$user" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      as_owner "$bindir/createdb" -h "$dir" -p "$port" -U "$user" "$db"
    fi
    echo "postgresql://$user@127.0.0.1:$port/$db"
    ;;
  stop)
    [ -f "$data/postmaster.pid" ] || exit 0
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    ;;
  url)
    echo "postgresql://$user@127.0.0.1:$(cat "$dir/port")/$db"
    ;;
  *)
    echo "usage: $0 start|stop|url DIR [PORT]" >&2; exit 2 ;;
esac
