#!/usr/bin/env bash
# Creates the PostgreSQL role and database Lianhu uses (idempotent) and prints the line for the
# environment file. Run as the postgres superuser:
#   sudo -u postgres deploy/setup-postgres.sh [ROLE] [DATABASE]          (default: lianhu lianhu)
# PSQL chooses how to connect (default: psql, the local socket); a new role gets a random password,
# an existing one keeps its password unless LIANHU_DB_PASSWORD is given.
set -euo pipefail
role=${1:-lianhu}
db=${2:-$role}
psql=${PSQL:-psql}
host=${LIANHU_DB_HOST:-127.0.0.1}
password=${LIANHU_DB_PASSWORD:-}
exists=$($psql -X -tAq -v ON_ERROR_STOP=1 -v role="$role" <<'SQL'
SELECT count(*) FROM pg_roles WHERE rolname = :'role';
SQL
)
if [ "$exists" = 0 ] && [ -z "$password" ]; then
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
fi
$psql -X -q -v ON_ERROR_STOP=1 -v role="$role" -v db="$db" -v pw="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'pw') WHERE :'pw' <> '' \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
echo "LIANHU_DATABASE_URL=postgresql://$role:${password:-PASSWORD}@$host:5432/$db"
