# PostgreSQL from Debian packages, as a private cluster in .local/postgres on 127.0.0.1.
# The server refuses to run as root, so as root it runs as the `postgres` user.

PG_DIR="$TESSERA_LOCAL/postgres"
PG_USER_NAME=tessera
PG_PASSWORD=${TESSERA_PG_PASSWORD:-tessera-local}
# One database per service (DESIGN.md: a service never reads another's database).
PG_DATABASES=(tessera_auth tessera_devices tessera_recovery tessera_audit)

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && echo "$dir"
}

ensure_postgres_installed() {
  [ -n "$(pg_bindir)" ] || apt_install postgresql
  local major; major=$(basename "$(dirname "$(pg_bindir)")")
  [ "$major" -ge "$POSTGRES_MIN_MAJOR" ] || die "PostgreSQL $major found; $POSTGRES_MIN_MAJOR+ is required"
}

# as_pg CMD... — runs CMD as the cluster's owner.
as_pg() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ctl_() { as_pg "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" "$@"; }
pg_running() { [ -f "$PG_DIR/data/postmaster.pid" ] && pg_ctl_ status >/dev/null 2>&1; }
psql_admin() { as_pg "$(pg_bindir)/psql" -h 127.0.0.1 -p "$TESSERA_PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

postgres_start() {
  ensure_postgres_installed
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres: "$PG_DIR"; fi
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in .local/postgres"
    # Superuser `postgres` trusts loopback connections from this machine only (local development);
    # the services' role logs in with a SCRAM password.
    as_pg "$(pg_bindir)/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; die "initdb failed"; }
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$PG_DIR/data/pg_hba.conf"
  fi
  if pg_running; then log "PostgreSQL already running on 127.0.0.1:$TESSERA_PG_PORT"; else
    port_busy "$TESSERA_PG_PORT" && die "port $TESSERA_PG_PORT (PostgreSQL) is taken by another process; stop it or set TESSERA_PG_PORT"
    log "starting PostgreSQL on 127.0.0.1:$TESSERA_PG_PORT"
    pg_ctl_ start -w -t 60 -l "$PG_DIR/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $TESSERA_PG_PORT -c unix_socket_directories=$PG_DIR -c max_connections=300 -c shared_buffers=256MB -c synchronous_commit=on -c idle_in_transaction_session_timeout=60s" \
      >/dev/null || { tail -20 "$PG_DIR/postgres.log" >&2; die "PostgreSQL did not start (log: .local/postgres/postgres.log)"; }
  fi
  psql_admin -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER_NAME') THEN
        CREATE ROLE $PG_USER_NAME LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
      END IF; END \$\$;"
  local db
  for db in "${PG_DATABASES[@]}"; do
    [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" = 1 ] \
      || psql_admin -c "CREATE DATABASE $db OWNER $PG_USER_NAME"
  done
}

postgres_stop() {
  if [ -n "$(pg_bindir)" ] && pg_running; then log "stopping PostgreSQL"; pg_ctl_ stop -m fast -w >/dev/null; fi
}
