#!/usr/bin/env bash
# Installs what the host needs: Debian packages (when root) and the .venv/.
# Quick when everything is already there, so every make target can depend on it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv="$top/.venv"

common_packages=(
  dpkg-dev                 # dpkg-architecture: what a board's Debian architecture means
  qemu-user                # lists a board's busybox applets at build time
  squashfs-tools e2fsprogs cpio  # image writers (apt, dpkg-deb fetch and unpack)
  python3-venv
  make gcc libc6-dev       # native runtime build and tests
  musl-tools               # the runtime's musl build (musl-gcc) and its tests
  smem                     # cross-check of our USS/PSS figures
  pkg-config libssl-dev libsqlite3-dev libxml2-dev libicu-dev  # app framework, native build
  rsync file bc python3-magic flake8 shellcheck  # Buildroot: local-site extract, check-package
  g++ patch perl unzip bzip2 wget  # Buildroot's host checks (support/dependencies)
)

# Installs the missing ones of "$@" (as root), or prints the command and fails.
install_missing() {
  local missing=() p cmd
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  else
    echo "deps: missing Debian packages; run as root:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
}

install_missing "${common_packages[@]}"
# Each board's QEMU and cross toolchain, from its board.toml and dpkg-architecture.
board_list=$(PYTHONPATH="$top/host-tools" python3 -m nuwa.hostdeps)
read -r -a board_packages <<<"$board_list"
install_missing "${board_packages[@]}"

stamp="$venv/.nuwa-deps"
if [ ! -x "$venv/bin/python" ]; then
  echo "deps: creating $venv" >&2
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$top/host-tools/pyproject.toml" -nt "$stamp" ]; then
  echo "deps: installing the nuwa host tools into $venv" >&2
  "$venv/bin/pip" install -q --upgrade pip >&2
  "$venv/bin/pip" install -q -e "$top/host-tools[dev]" >&2
  touch "$stamp"
fi
