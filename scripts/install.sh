#!/usr/bin/env bash
# Install Flotilla on a Debian, Ubuntu or Raspberry Pi OS machine (amd64 or arm64), as root.
#
#   server, first replica:   scripts/install.sh --cluster-init [--advertise-address IP]
#   server, more replicas:   scripts/install.sh --join https://HOST:6443 --token T [--advertise-address IP]
#   agent:                   scripts/install.sh --server https://HOST:6443 --token T [--node-name N] [--node-ip IP]
#
# Other flags: --data-dir DIR (default /var/lib/flotilla), --prefix DIR (where the code goes,
# default /opt/flotilla), --skip-preflight, --no-systemd (start the process directly instead of a
# systemd unit: the testbed's namespace hosts use it), --netns NAME (with --no-systemd: run inside
# that network namespace), --containerd-socket PATH (agent: use this containerd instead of the
# system one). Flags after `--` go to `flotilla server` or `flotilla agent` unchanged.
# Running it twice is safe. scripts/uninstall.sh undoes it.
set -euo pipefail
source_root=$(cd "$(dirname "$0")/.." && pwd)

prefix=/opt/flotilla
data_dir=/var/lib/flotilla
role=""
cluster_init=no
join_url=""
server_url=""
token=""
advertise_address=""
node_name=""
node_ip=""
containerd_socket=""
netns=""
use_systemd=yes
preflight=yes
extra_args=()
node_major_min=20
readiness_timeout_seconds=120

say() { printf '==> %s\n' "$*"; }
# Running and not a zombie: a killed process whose parent has gone may wait unreaped (state Z)
# where PID 1 does not reap, and kill -0 still succeeds on it.
alive() { kill -0 "$1" 2>/dev/null && ! awk '{ exit !($3 == "Z") }' "/proc/$1/stat" 2>/dev/null; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "flag $1 needs a value"; }

parse_flags() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --cluster-init) cluster_init=yes; shift ;;
      --join) need_value "$@"; join_url=$2; shift 2 ;;
      --server) need_value "$@"; server_url=$2; shift 2 ;;
      --token) need_value "$@"; token=$2; shift 2 ;;
      --advertise-address) need_value "$@"; advertise_address=$2; shift 2 ;;
      --node-name) need_value "$@"; node_name=$2; shift 2 ;;
      --node-ip) need_value "$@"; node_ip=$2; shift 2 ;;
      --data-dir) need_value "$@"; data_dir=$2; shift 2 ;;
      --prefix) need_value "$@"; prefix=$2; shift 2 ;;
      --containerd-socket) need_value "$@"; containerd_socket=$2; shift 2 ;;
      --netns) need_value "$@"; netns=$2; shift 2 ;;
      --no-systemd) use_systemd=no; shift ;;
      --skip-preflight) preflight=no; shift ;;
      --) shift; extra_args=("$@"); break ;;
      -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown flag $1 (see --help)" ;;
    esac
  done
}

decide_role() {
  local servers=0
  [ "$cluster_init" = yes ] && servers=$((servers + 1))
  [ -n "$join_url" ] && servers=$((servers + 1))
  if [ -n "$server_url" ] && [ $servers -gt 0 ]; then die "--server (agent) cannot be combined with --cluster-init or --join (server)"; fi
  [ $servers -le 1 ] || die "--cluster-init and --join exclude each other"
  if [ $servers -eq 1 ]; then role=server; elif [ -n "$server_url" ]; then role=agent; else die "say what to install: --cluster-init, --join URL --token T, or --server URL --token T"; fi
  if [ -n "$join_url" ] || [ "$role" = agent ]; then [ -n "$token" ] || die "--token is required with --join and --server"; fi
  [ -z "$netns" ] || [ "$use_systemd" = no ] || die "--netns only works with --no-systemd"
  [ -z "$netns" ] || [ -e "/var/run/netns/$netns" ] || die "--netns $netns: no such network namespace"
}

install_packages() {
  local wanted=(curl ca-certificates iproute2 nftables)
  [ "$role" = agent ] && wanted+=(containerd runc containernetworking-plugins busybox-static)
  local missing=() package
  for package in "${wanted[@]}"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  ensure_node
}

ensure_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt $node_major_min ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null 2>&1 || true
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  fi
  [ "$major" -ge $node_major_min ] || die "Node.js >= $node_major_min is needed (found ${major}); install it from https://nodejs.org (or NodeSource's apt repository) and run again"
}

install_code() {
  if [ "$(cd "$prefix" 2>/dev/null && pwd)" = "$source_root" ]; then
    say "using the code in place at $prefix"
  else
    say "copying Flotilla to $prefix"
    mkdir -p "$prefix"
    (cd "$source_root" && tar --exclude=./node_modules --exclude=./.git --exclude=./.tmp -cf - .) | (cd "$prefix" && tar -xf -)
  fi
  if [ ! -d "$prefix/node_modules/tsx" ]; then
    say "installing npm packages in $prefix"
    (cd "$prefix" && npm install --omit=dev --no-audit --no-fund --loglevel=error)
  fi
  # Builds the JavaScript bundle scripts/flotilla runs now, so the service's first start does not.
  "$prefix/scripts/flotilla" version >/dev/null
}

# The system containerd for an agent: CNI plugins where Debian puts them, Flotilla's pause image.
configure_containerd() {
  [ "$role" = agent ] && [ -z "$containerd_socket" ] || return 0
  local config=/etc/containerd/config.toml
  if ! grep -q 'flotilla/pause:1' "$config" 2>/dev/null; then
    say "configuring containerd ($config)"
    mkdir -p /etc/containerd /etc/cni/net.d
    containerd config default >"$config"
    sed -i -E \
      -e 's|^(\s*)sandbox_image = .*|\1sandbox_image = "docker.io/flotilla/pause:1"|' \
      -e 's|^(\s*)bin_dir = .*|\1bin_dir = "/usr/lib/cni"|' \
      -e 's|^(\s*)conf_dir = .*|\1conf_dir = "/etc/cni/net.d"|' \
      -e 's|^(\s*)SystemdCgroup = .*|\1SystemdCgroup = false|' \
      "$config"
    systemctl restart containerd
  fi
  local images
  images=$(mktemp -d)
  "$prefix/scripts/images/build.sh" "$images" >/dev/null
  ctr -n k8s.io images import "$images/pause.tar" >/dev/null
  ctr -n k8s.io images import "$images/busybox.tar" >/dev/null
  rm -rf "$images"
}

process_args() {
  local args=()
  if [ "$role" = server ]; then
    args+=(--data-dir "$data_dir")
    [ "$cluster_init" = yes ] && args+=(--cluster-init)
    [ -n "$join_url" ] && args+=(--join "$join_url" --token "$token")
    [ -n "$advertise_address" ] && args+=(--advertise-address "$advertise_address")
  else
    args+=(--server "$server_url" --token "$token" --data-dir "$data_dir")
    [ -n "$node_name" ] && args+=(--node-name "$node_name")
    [ -n "$node_ip" ] && args+=(--node-ip "$node_ip")
    [ -n "$containerd_socket" ] && args+=(--containerd-socket "$containerd_socket")
  fi
  args+=("${extra_args[@]}")
  printf '%s\n' "${args[@]}"
}

start_with_systemd() {
  local unit="flotilla-$role" variable args
  variable="FLOTILLA_$(echo "$role" | tr '[:lower:]' '[:upper:]')_ARGS"
  args=$(process_args | tr '\n' ' ')
  mkdir -p /etc/flotilla
  umask 077
  printf '%s="%s"\n' "$variable" "${args% }" >"/etc/flotilla/$role.env"
  sed "s|@PREFIX@|$prefix|g" "$prefix/cluster-config/systemd/$unit.service" >"/etc/systemd/system/$unit.service"
  systemctl daemon-reload
  systemctl enable "$unit" >/dev/null 2>&1
  systemctl restart "$unit"
  say "started $unit (journalctl -u $unit -f)"
}

start_directly() {
  local pid_file="$data_dir/flotilla-$role.pid" log_file="$data_dir/flotilla-$role.log" launcher=()
  mkdir -p "$data_dir"
  if [ -f "$pid_file" ] && alive "$(cat "$pid_file")"; then say "flotilla $role already running (pid $(cat "$pid_file"))"; return; fi
  [ -n "$netns" ] && launcher=(nsenter "--net=/var/run/netns/$netns")
  local args=()
  mapfile -t args < <(process_args)
  nohup "${launcher[@]}" "$prefix/scripts/flotilla" "$role" "${args[@]}" >>"$log_file" 2>&1 &
  echo $! >"$pid_file"
  say "started flotilla $role (pid $!, log $log_file)"
}

# With --no-systemd a process that died at start is reported at once, with its log's last lines.
exited_early() {
  local pid_file="$data_dir/flotilla-$role.pid"
  [ "$use_systemd" = no ] && [ -f "$pid_file" ] || return 0
  alive "$(cat "$pid_file")" && return 0
  tail -n 5 "$data_dir/flotilla-$role.log" >&2
  die "flotilla $role exited during start (log: $data_dir/flotilla-$role.log)"
}

wait_ready() {
  local deadline=$((SECONDS + readiness_timeout_seconds))
  if [ "$role" = server ]; then
    say "waiting for $data_dir/admin.kubeconfig and a ready API (at most ${readiness_timeout_seconds} s)"
    until [ -f "$data_dir/admin.kubeconfig" ] && curl -skf --max-time 2 "$(awk '$1 == "server:" { print $2; exit }' "$data_dir/admin.kubeconfig")/readyz" >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || die "the server is not ready after ${readiness_timeout_seconds} s; see its log"
      exited_early
      sleep 1
    done
    say "ready: KUBECONFIG=$data_dir/admin.kubeconfig kubectl get nodes"
  else
    say "the agent registers with $server_url; watch it join with: kubectl get nodes -w"
  fi
}

main() {
  parse_flags "$@"
  decide_role
  [ "$(id -u)" -eq 0 ] || die "run as root"
  if [ "$preflight" = yes ]; then
    local preflight_args=(--role "$role" --data-dir "$data_dir")
    [ -n "$server_url$join_url" ] && preflight_args+=(--server "${server_url:-$join_url}")
    "$source_root/scripts/preflight.sh" "${preflight_args[@]}" || die "preflight failed (fix the above, or --skip-preflight at your own risk)"
  fi
  install_packages
  install_code
  configure_containerd
  if [ "$use_systemd" = yes ]; then start_with_systemd; else start_directly; fi
  wait_ready
}

main "$@"
