#!/usr/bin/env bash
# Run a command with DATABASE_URL pointing at a real PgBouncer in transaction mode in front of the test
# PostgreSQL, and ADMIN_DATABASE_URL at the server itself (the test fixtures' database creation and
# clean-up, which use session settings, never go through the pooler).
#   infra/pgbouncer/run-pooled.sh .venv/bin/pytest tests/integration tests/functions
# Installs PgBouncer from the distribution's packages when missing; starts it as a process of its own
# (not a system service) with a pid file in a temporary folder; stops it on exit, also when the command fails.
# POOLER_EXTRA_IGNORED_PARAMETERS=options: also ignore `options` (to see what code sending it would do).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
server_host="${POOLED_SERVER_HOST:-127.0.0.1}"
server_port="${POOLED_SERVER_PORT:-5432}"
listen_port="${POOLER_PORT:-6432}"

pgbouncer_bin="$(command -v pgbouncer || true)"
[ -n "$pgbouncer_bin" ] || [ ! -x /usr/sbin/pgbouncer ] || pgbouncer_bin=/usr/sbin/pgbouncer
if [ -z "$pgbouncer_bin" ]; then
  echo "== installing pgbouncer from the distribution's packages =="
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y pgbouncer \
    || { $sudo_cmd apt-get update && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y pgbouncer; }
  pgbouncer_bin="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
while port_busy "$listen_port"; do
  echo "port $listen_port is in use; trying $((listen_port + 1))"
  listen_port=$((listen_port + 1))
done

run_dir="$(mktemp -d /tmp/ispb-pgbouncer.XXXXXX)"
chmod 755 "$run_dir"
version="$("$pgbouncer_bin" --version | awk 'NR == 1 {print $2}')"
prepared=";; max_prepared_statements: not supported by PgBouncer $version (1.21+), which then never keeps prepared statements"
if [ "$(printf '%s\n1.21\n' "$version" | sort -V | head -1)" = "1.21" ]; then
  prepared="max_prepared_statements = 0"
fi
sed -e "s|@SERVER_HOST@|$server_host|" -e "s|@SERVER_PORT@|$server_port|" -e "s|@LISTEN_PORT@|$listen_port|" \
    -e "s|@EXTRA_IGNORED@|${POOLER_EXTRA_IGNORED_PARAMETERS:+,$POOLER_EXTRA_IGNORED_PARAMETERS}|" \
    -e "s|@RUN_DIR@|$run_dir|g" -e "s|@PREPARED_STATEMENTS@|$prepared|" "$here/pgbouncer.ini.in" >"$run_dir/pgbouncer.ini"
echo '"postgres" ""' >"$run_dir/userlist.txt"
run_as=()
if [ "$(id -u)" -eq 0 ]; then  # PgBouncer refuses to run as root
  chown -R postgres "$run_dir"
  run_as=(-u postgres)
fi

stop() {
  if [ -s "$run_dir/pgbouncer.pid" ]; then
    kill "$(cat "$run_dir/pgbouncer.pid")" 2>/dev/null || true
    for _ in $(seq 50); do [ -s "$run_dir/pgbouncer.pid" ] && kill -0 "$(cat "$run_dir/pgbouncer.pid")" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$run_dir"
}
trap stop EXIT

"$pgbouncer_bin" -d "${run_as[@]}" "$run_dir/pgbouncer.ini"
for _ in $(seq 100); do port_busy "$listen_port" && break; sleep 0.1; done
port_busy "$listen_port" || { cat "$run_dir/pgbouncer.log" >&2; echo "pgbouncer did not start" >&2; exit 1; }
echo "== PgBouncer $version (transaction mode) on 127.0.0.1:$listen_port -> $server_host:$server_port =="

export DATABASE_URL="postgresql://postgres@127.0.0.1:$listen_port/postgres"
export ADMIN_DATABASE_URL="postgresql://postgres@$server_host:$server_port/postgres"
export POOLER_MODE=transaction
"$@"
