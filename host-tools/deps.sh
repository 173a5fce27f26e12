#!/usr/bin/env bash
# Installs what the host needs: Debian packages (when root) and the .venv/.
# Quick when everything is already there, so every make target can depend on it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
venv="$top/.venv"

apt_packages=(
  qemu-system-arm          # boots the image
  qemu-user                # lists the armhf busybox applets at build time
  gcc-arm-linux-gnueabihf  # cross-compiles the runtime
  libc6-dev-armhf-cross
  squashfs-tools e2fsprogs cpio  # image writers (apt, dpkg-deb fetch and unpack)
  python3-venv
  make gcc libc6-dev       # native runtime build and tests
  smem                     # cross-check of our USS/PSS figures
  pkg-config libssl-dev libsqlite3-dev libxml2-dev libicu-dev  # app framework, native build
)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
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
fi

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
