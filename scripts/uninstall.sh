#!/usr/bin/env bash
# Undo scripts/install.sh on this machine, as root:
#   scripts/uninstall.sh [--data-dir DIR] [--prefix DIR] [--keep-data] [--netns NAME]
# Stops the server and agent (systemd units or --no-systemd processes), removes the units and
# /etc/flotilla, the agent's network state (VXLAN device, CNI bridge, nftables tables), the
# installed code (unless it is this checkout) and the data directory (unless --keep-data).
# Containers the agent started are removed through containerd first. Safe to run twice.
set -uo pipefail
source_root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/flotilla
data_dir=/var/lib/flotilla
keep_data=no
netns=""
stop_grace_seconds=30

say() { printf '==> %s\n' "$*"; }
# Running and not a zombie (see install.sh).
alive() { kill -0 "$1" 2>/dev/null && ! awk '{ exit !($3 == "Z") }' "/proc/$1/stat" 2>/dev/null; }
die() { printf 'uninstall: %s\n' "$*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) [ -n "${2:-}" ] || die "flag --data-dir needs a value"; data_dir=$2; shift 2 ;;
    --prefix) [ -n "${2:-}" ] || die "flag --prefix needs a value"; prefix=$2; shift 2 ;;
    --netns) [ -n "${2:-}" ] || die "flag --netns needs a value"; netns=$2; shift 2 ;;
    --keep-data) keep_data=yes; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown flag $1 (see --help)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run as root"
in_host() { if [ -n "$netns" ]; then nsenter "--net=/var/run/netns/$netns" "$@"; else "$@"; fi; }

stop_units() {
  local unit
  for unit in flotilla-agent flotilla-server; do
    [ -f "/etc/systemd/system/$unit.service" ] || continue
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
    rm -f "/etc/systemd/system/$unit.service"
    say "removed $unit"
  done
  command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload >/dev/null 2>&1
  rm -rf /etc/flotilla
}

stop_processes() {
  local role pid_file pid waited
  for role in agent server; do
    pid_file="$data_dir/flotilla-$role.pid"
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    if alive "$pid"; then
      kill "$pid"; waited=0
      while alive "$pid" && [ $waited -lt $((stop_grace_seconds * 5)) ]; do sleep 0.2; waited=$((waited + 1)); done
      alive "$pid" && kill -9 "$pid"
      say "stopped flotilla $role (pid $pid)"
    fi
    rm -f "$pid_file"
  done
}

remove_pods() {
  command -v crictl >/dev/null 2>&1 || return 0
  local socket=/run/containerd/containerd.sock
  [ -S "$socket" ] || return 0
  crictl --runtime-endpoint "unix://$socket" rmp -af >/dev/null 2>&1 && say "removed pods from containerd"
}

remove_network_state() {
  in_host ip link del flotilla.1 2>/dev/null && say "removed VXLAN device flotilla.1"
  in_host ip link del cni0 2>/dev/null && say "removed CNI bridge cni0"
  local table
  for table in flotilla_proxy flotilla_overlay; do in_host nft delete table ip "$table" 2>/dev/null && say "removed nftables table $table"; done
  rm -f /etc/cni/net.d/10-flotilla.conflist
}

stop_units
stop_processes
[ -z "$netns" ] && remove_pods
remove_network_state
if [ "$(cd "$prefix" 2>/dev/null && pwd)" != "$source_root" ] && [ -d "$prefix" ]; then rm -rf "$prefix"; say "removed $prefix"; fi
if [ "$keep_data" = no ] && [ -d "$data_dir" ]; then rm -rf "$data_dir"; say "removed $data_dir"; fi
say "Flotilla is uninstalled"
