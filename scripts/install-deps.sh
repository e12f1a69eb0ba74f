#!/usr/bin/env bash
# Installs what Flotilla needs on a Debian-family machine, only what is missing, so every make
# target can call it cheaply. Usage: scripts/install-deps.sh apt|npm|all
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Debian packages the tests, benchmarks and the local testbed use. etcd-server/etcd-client are
# the reference store and its CLI; containerd, runc, CNI plugins and busybox-static run pods.
apt_packages=(
  etcd-server etcd-client containerd runc containernetworking-plugins busybox-static
  nftables iptables iproute2 dnsutils curl iputils-ping procps util-linux kmod openssl
)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: installing Debian packages needs root (missing: $*)" >&2
    exit 1
  fi
}

install_apt() {
  local missing=()
  for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  # kubectl: any installed one will do (the image ships v1.32); otherwise Debian's package.
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  [ ${#missing[@]} -eq 0 ] && return 0
  need_root "${missing[@]}"
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be absent on a fresh machine: update once, then install by name.
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

check_node() {
  if ! command -v node >/dev/null; then
    echo "install-deps: Node.js >= 20 is required (not found); see README.md" >&2
    exit 1
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "install-deps: Node.js >= 20 is required, found $(node --version)" >&2
    exit 1
  fi
}

install_npm() {
  check_node
  local stamp="$root/node_modules/.flotilla-deps"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$root/package-lock.json" ] && [ "$stamp" -nt "$root/package.json" ]; then
    return 0
  fi
  # `npm install` rather than `npm ci`: the lock lists every platform's optional binaries
  # (rollup, esbuild) and the registry here serves only this platform's, which `npm ci` refuses.
  # With the lock present, `npm install` installs exactly the locked versions.
  echo "install-deps: npm install (from package-lock.json)"
  (cd "$root" && npm install --include=dev --no-audit --no-fund --loglevel=error)
  touch "$stamp"
}

case "${1:-all}" in
  apt) install_apt ;;
  npm) install_npm ;;
  all) install_apt; install_npm ;;
  *) echo "usage: $0 apt|npm|all" >&2; exit 2 ;;
esac
