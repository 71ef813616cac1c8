#!/usr/bin/env bash
# Builds a trimmed Debian root filesystem for `docker import`.
# Usage: rootfs.sh <suite> <dir> <mirror> [<security mirror>]
# Mirrors come from the host's own apt sources (the caller reads them); none is hard-coded here.
set -euo pipefail
suite="$1" dir="$2" mirror="$3" security="${4:-}"

rm -rf "$dir"
debootstrap --variant=minbase "$suite" "$dir" "$mirror"

# Same sources as the host for this suite, so apt inside `docker build` gets updates too.
{
  echo "deb $mirror $suite main"
  echo "deb $mirror $suite-updates main"
  [ -n "$security" ] && echo "deb $security $suite-security main"
} >"$dir/etc/apt/sources.list"

# Keep images small: no docs, no cached packages (the imported rootfs lacks Debian's docker-clean hook).
cat >"$dir/etc/apt/apt.conf.d/90bridge-harness" <<'CONF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
CONF
cat >"$dir/etc/dpkg/dpkg.cfg.d/90bridge-harness-nodoc" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF

rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/cache/apt/*.bin
find "$dir/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial -exec rm -rf {} +
rm -rf "$dir"/usr/share/doc/*/changelog* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
: >"$dir/etc/resolv.conf"
: >"$dir/etc/hostname"
