#!/usr/bin/env bash
# Entry point compatible with the official postgres image for what tests use:
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / POSTGRES_INITDB_ARGS / POSTGRES_HOST_AUTH_METHOD,
# PGDATA, /docker-entrypoint-initdb.d/*.{sh,sql,sql.gz}. Local socket connections stay on `trust`
# (psql inside the container, e.g. testcontainers' snapshot/restore); TCP uses a password.
set -Eeuo pipefail

# `docker run img -c fsync=off` means "postgres -c fsync=off".
if [ "${1:-}" ] && [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

if [ "${1:-}" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

log() { printf '%s\n' "$*"; }

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  : "${POSTGRES_PASSWORD:=}"
  : "${POSTGRES_INITDB_ARGS:=}"
  : "${POSTGRES_HOST_AUTH_METHOD:=}"

  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    log "Error: database is uninitialized and superuser password is not specified." >&2
    log "       Set POSTGRES_PASSWORD, or POSTGRES_HOST_AUTH_METHOD=trust to allow connections without one." >&2
    exit 1
  fi

  pwargs=()
  if [ -n "$POSTGRES_PASSWORD" ]; then
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    pwargs=(--pwfile="$pwfile")
  fi
  # POSTGRES_INITDB_ARGS is word-split on purpose, as in the official image.
  # shellcheck disable=SC2086
  initdb --username="$POSTGRES_USER" "${pwargs[@]}" $POSTGRES_INITDB_ARGS
  [ -n "${pwfile:-}" ] && rm -f "$pwfile"

  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  printf '\nhost all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

  # Socket-only temporary server for database creation and init scripts.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start

  psql_cmd=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql_cmd[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;'
  fi

  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then log "running $f"; "$f"; else log "sourcing $f"; . "$f"; fi ;;
      *.sql) log "running $f"; "${psql_cmd[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql_cmd[@]}" --dbname "$POSTGRES_DB" ;;
      *) log "ignoring $f" ;;
    esac
  done

  pg_ctl -D "$PGDATA" -m fast -w stop
  log
  log 'PostgreSQL init process complete; ready for start up.'
  log
fi

exec "$@"
