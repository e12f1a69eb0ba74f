#!/usr/bin/env bash
# Preflight checks for a Flotilla machine, each naming the fix when it fails.
#   scripts/preflight.sh [--role server|agent] [--data-dir DIR] [--server URL]
# Exit 0 when every check passes (warnings allowed), 1 when one fails. install.sh runs it first.
# The roots below can be pointed elsewhere so that the checks themselves are tested
# (test/integration/install/preflight.test.ts).
set -uo pipefail

proc_root=${FLOTILLA_PROC_ROOT:-/proc}
sys_root=${FLOTILLA_SYS_ROOT:-/sys}
etc_root=${FLOTILLA_ETC_ROOT:-/etc}
boot_root=${FLOTILLA_BOOT_ROOT:-/boot}
iptables_command=${FLOTILLA_IPTABLES:-iptables}
modprobe_command=${FLOTILLA_MODPROBE:-modprobe}
# etcd's guidance: the 99th percentile of fdatasync under 10 ms; we measure a mean over 50 writes.
fsync_mean_ms_max=${FLOTILLA_FSYNC_MEAN_MS_MAX:-10}
fsync_writes=50
clock_skew_seconds_max=2

role=agent
data_dir=/var/lib/flotilla
server=""
failures=0
warnings=0

usage() { echo "usage: $0 [--role server|agent] [--data-dir DIR] [--server URL]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --role) role=${2:-}; shift 2 ;;
    --data-dir) data_dir=${2:-}; shift 2 ;;
    --server) server=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "preflight: unknown flag $1" >&2; usage ;;
  esac
done
case "$role" in server|agent) ;; *) echo "preflight: --role must be server or agent, not '$role'" >&2; exit 2 ;; esac

pass() { printf '  ok    %s\n' "$1"; }
warn() { printf '  warn  %s\n        fix: %s\n' "$1" "$2"; warnings=$((warnings + 1)); }
fail() { printf '  FAIL  %s\n        fix: %s\n' "$1" "$2"; failures=$((failures + 1)); }

is_raspberry_pi() { grep -qi 'raspberry pi' "$proc_root/device-tree/model" 2>/dev/null || grep -qi '^Model.*Raspberry Pi' "$proc_root/cpuinfo" 2>/dev/null; }

pi_cmdline_file() {
  if [ -f "$boot_root/firmware/cmdline.txt" ]; then echo "$boot_root/firmware/cmdline.txt"; else echo "$boot_root/cmdline.txt"; fi
}

check_memory_cgroup() {
  local enabled=no
  if [ -f "$sys_root/fs/cgroup/cgroup.controllers" ]; then
    grep -qw memory "$sys_root/fs/cgroup/cgroup.controllers" && enabled=yes
  elif awk '$1 == "memory" && $4 == 1 { found = 1 } END { exit !found }' "$proc_root/cgroups" 2>/dev/null; then
    enabled=yes
  fi
  if [ "$enabled" = yes ]; then pass "memory cgroup enabled"; return; fi
  if is_raspberry_pi; then
    fail "memory cgroup is disabled (Raspberry Pi kernels ship it off)" \
      "append 'cgroup_enable=memory cgroup_memory=1' to the single line of $(pi_cmdline_file), then reboot"
  else
    fail "memory cgroup is disabled" "boot with 'cgroup_enable=memory' on the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)"
  fi
}

check_vxlan() {
  [ "$role" = agent ] || return 0
  if [ -d "$sys_root/module/vxlan" ] || "$modprobe_command" -n vxlan >/dev/null 2>&1; then pass "vxlan kernel module available"; return; fi
  fail "the vxlan kernel module is missing (the pod overlay needs it)" \
    "modprobe vxlan; on Ubuntu install linux-modules-extra-\$(uname -r); on Raspberry Pi OS update the kernel (apt full-upgrade) and reboot"
}

check_iptables_backend() {
  local version
  version=$("$iptables_command" --version 2>/dev/null || true)
  case "$version" in
    *legacy*) fail "iptables uses the legacy backend; Flotilla's rules are nftables and the two would fight over the same packets" \
      "update-alternatives --set iptables /usr/sbin/iptables-nft && update-alternatives --set ip6tables /usr/sbin/ip6tables-nft, then reboot" ;;
    "") pass "no iptables installed (nftables only)" ;;
    *) pass "iptables uses the nf_tables backend" ;;
  esac
}

check_swap() {
  local active
  active=$(awk 'NR > 1' "$proc_root/swaps" 2>/dev/null | wc -l)
  if [ "$active" -eq 0 ]; then pass "swap is off"; return; fi
  if is_raspberry_pi; then
    fail "swap is on ($active device(s)); memory limits and eviction would be wrong" "dphys-swapfile swapoff && systemctl disable --now dphys-swapfile"
  else
    fail "swap is on ($active device(s)); memory limits and eviction would be wrong" "swapoff -a, and remove the swap line from /etc/fstab"
  fi
}

check_identity() {
  local machine_id host
  machine_id=$(tr -d '[:space:]' <"$etc_root/machine-id" 2>/dev/null || true)
  if ! [[ "$machine_id" =~ ^[0-9a-f]{32}$ ]]; then
    fail "/etc/machine-id is missing or malformed" "rm -f /etc/machine-id && systemd-machine-id-setup"
  elif [ "$machine_id" = "${FLOTILLA_CLONED_MACHINE_ID:-}" ]; then
    fail "/etc/machine-id equals the image's ($machine_id): this machine is a clone and would collide with its siblings" \
      "rm -f /etc/machine-id && systemd-machine-id-setup, then reboot"
  else
    pass "machine id $machine_id"
  fi
  host=$(cat "$etc_root/hostname" 2>/dev/null || hostname)
  host=$(echo "$host" | tr -d '[:space:]')
  if [[ "$host" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
    if [ "$host" = raspberrypi ] || [ "$host" = localhost ] || [ "$host" = debian ]; then
      warn "hostname '$host' is an image default; a second machine with it cannot join under that name" "hostnamectl set-hostname <unique-name> (or pass --node-name)"
    else
      pass "hostname $host is a valid node name"
    fi
  else
    fail "hostname '$host' is not a valid node name (lower-case letters, digits and '-', at most 63)" "hostnamectl set-hostname <name>, or pass --node-name"
  fi
}

check_clock() {
  [ -n "$server" ] || { pass "clock skew not checked (no --server given)"; return 0; }
  local date_header server_epoch local_epoch skew
  date_header=$(curl -skI --max-time 5 "$server/version" 2>/dev/null | tr -d '\r' | awk -F': ' 'tolower($1) == "date" { print $2 }')
  if [ -z "$date_header" ]; then warn "could not read the time of $server" "check that the server is reachable from here"; return; fi
  server_epoch=$(date -d "$date_header" +%s)
  local_epoch=$(date +%s)
  skew=$((local_epoch - server_epoch)); skew=${skew#-}
  if [ "$skew" -le "$clock_skew_seconds_max" ]; then pass "clock within ${skew} s of $server"; return; fi
  fail "clock is ${skew} s away from $server's (leases, certificates and tokens need agreeing clocks)" "enable time sync: timedatectl set-ntp true (systemd-timesyncd or chrony)"
}

check_fsync() {
  [ "$role" = server ] || return 0
  mkdir -p "$data_dir" || { fail "cannot create $data_dir" "choose a writable --data-dir"; return; }
  local probe="$data_dir/.flotilla-fsync-probe" start_ns end_ns mean_ms
  start_ns=$(date +%s%N)
  if ! dd if=/dev/zero of="$probe" bs=4k count="$fsync_writes" oflag=dsync status=none 2>/dev/null; then
    rm -f "$probe"; fail "cannot write to $data_dir" "choose a writable --data-dir"; return
  fi
  end_ns=$(date +%s%N)
  rm -f "$probe"
  mean_ms=$(( (end_ns - start_ns) / fsync_writes / 1000000 ))
  if [ "$mean_ms" -le "$fsync_mean_ms_max" ]; then pass "disk under $data_dir syncs in ${mean_ms} ms per write"; return; fi
  fail "disk under $data_dir takes ${mean_ms} ms per synced write (the store needs <= ${fsync_mean_ms_max} ms; SD cards are often 20-50 ms)" \
    "put --data-dir on an SSD (USB 3 or NVMe on a Raspberry Pi)"
}

echo "preflight ($role):"
check_memory_cgroup
check_vxlan
check_iptables_backend
check_swap
check_identity
check_clock
check_fsync
if [ "$failures" -gt 0 ]; then
  echo "preflight: $failures check(s) failed, $warnings warning(s); fix them and run again"
  exit 1
fi
echo "preflight: all checks passed ($warnings warning(s))"
