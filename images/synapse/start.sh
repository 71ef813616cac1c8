#!/usr/bin/env bash
# Subset of the official image's /start.py:
#   (no args) | run   start Synapse with $SYNAPSE_CONFIG_PATH (default /data/homeserver.yaml),
#                     as $UID:$GID (default 991:991) when started as root
#   generate          write a config for $SYNAPSE_SERVER_NAME (needs SYNAPSE_REPORT_STATS) into /data
#   anything else     executed as given (e.g. `python -m synapse.app.homeserver -c ...`)
set -euo pipefail

config="${SYNAPSE_CONFIG_PATH:-/data/homeserver.yaml}"
data_dir="${SYNAPSE_DATA_DIR:-/data}"
# Not $UID/$GID directly: bash fixes $UID to the real uid.
run_uid="$(printenv UID || echo 991)"
run_gid="$(printenv GID || echo 991)"

as_user() {
  if [ "$(id -u)" = 0 ]; then
    exec setpriv --reuid="$run_uid" --regid="$run_gid" --clear-groups -- "$@"
  fi
  exec "$@"
}

mode="${1:-run}"
case "$mode" in
  run)
    [ -f "$config" ] || { echo "start.sh: no config at $config (run 'generate' first or mount one)" >&2; exit 1; }
    as_user python -m synapse.app.homeserver --config-path "$config"
    ;;
  generate)
    : "${SYNAPSE_SERVER_NAME:?SYNAPSE_SERVER_NAME is required for generate}"
    : "${SYNAPSE_REPORT_STATS:?SYNAPSE_REPORT_STATS (yes/no) is required for generate}"
    mkdir -p "$data_dir"
    [ "$(id -u)" = 0 ] && chown "$run_uid:$run_gid" "$data_dir"
    as_user python -m synapse.app.homeserver \
      --server-name "$SYNAPSE_SERVER_NAME" --report-stats "$SYNAPSE_REPORT_STATS" \
      --config-path "$config" --config-directory "$data_dir" --data-directory "$data_dir" \
      --generate-config --open-private-ports
    ;;
  *)
    exec "$@"
    ;;
esac
