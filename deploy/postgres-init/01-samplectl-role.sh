#!/usr/bin/env bash
# Creates samplectl's application role and its database. The postgres image runs this once, as the
# superuser, on the first start with an empty data volume (scripts in /docker-entrypoint-initdb.d).
# Least privilege: the role can log in and owns the samplectl database (so `samplectl init` can create
# and migrate the users table there), but is no superuser and cannot create roles or other databases.
# The password is read inside psql (\getenv), so it never appears on a command line.
# The password comes from a compose secret (SAMPLECTL_PG_PASSWORD_FILE, as the image's own *_FILE
# variables), or from SAMPLECTL_PG_PASSWORD where no secrets are used.
set -euo pipefail
if [ -n "${SAMPLECTL_PG_PASSWORD_FILE:-}" ]; then
  SAMPLECTL_PG_PASSWORD="$(tr -d '\r\n' < "$SAMPLECTL_PG_PASSWORD_FILE")"
  export SAMPLECTL_PG_PASSWORD
fi
: "${SAMPLECTL_PG_USER:?}" "${SAMPLECTL_PG_PASSWORD:?}" "${SAMPLECTL_PG_DB:?}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" <<'SQL'
\getenv app_user SAMPLECTL_PG_USER
\getenv app_password SAMPLECTL_PG_PASSWORD
\getenv app_db SAMPLECTL_PG_DB
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"app_db" OWNER :"app_user";
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;
SQL
echo "created PostgreSQL role ${SAMPLECTL_PG_USER} owning database ${SAMPLECTL_PG_DB}"
