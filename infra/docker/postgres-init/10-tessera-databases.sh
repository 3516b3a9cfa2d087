#!/usr/bin/env bash
# First start of the compose PostgreSQL (the image runs /docker-entrypoint-initdb.d only on an empty data
# directory): the `tessera` role and one database per service, owned by it, as infra/local/lib/postgres.sh
# creates them for the local platform. A service never reads another's database (DESIGN.md).
set -euo pipefail

: "${TESSERA_PG_PASSWORD:?set TESSERA_PG_PASSWORD for the tessera role}"

# The password goes in as a psql variable (:'password' quotes it), so no character in it can break the SQL.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$TESSERA_PG_PASSWORD" <<'SQL'
CREATE ROLE tessera LOGIN CREATEDB PASSWORD :'password';
CREATE DATABASE tessera_auth OWNER tessera;
CREATE DATABASE tessera_devices OWNER tessera;
CREATE DATABASE tessera_recovery OWNER tessera;
CREATE DATABASE tessera_audit OWNER tessera;
SQL
