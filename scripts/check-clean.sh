#!/usr/bin/env bash
# Fails when the working tree's tracked files differ from the commit: set-up must leave a fresh clone
# as it was (a package-lock.json that npm rewrites, say, means the committed lock does not install as
# committed). Untracked and ignored files (node_modules/, .cache/, runs/) do not count.
set -euo pipefail
cd "${1:-.}"
changed="$(git status --porcelain --untracked-files=no)"
if [ -n "$changed" ]; then
  printf 'set-up modified tracked files (commit the result, or fix what rewrites them):\n%s\n' "$changed" >&2
  git --no-pager diff --stat >&2 || true
  exit 1
fi
