#!/usr/bin/env bash
# A local Flotilla store cluster on this machine: 3 members on loopback, data under
# /var/lib/flotilla-local (or $FLOTILLA_LOCAL_DIR). `up` is safe to run twice; `down` removes all.
# This is what `make up` runs until the API server and agents exist (see README.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${FLOTILLA_LOCAL_DIR:-/var/lib/flotilla-local}
members=(m0 m1 m2)
client_port() { echo $((22379 + 10 * $1)); }
peer_port() { echo $((22380 + 10 * $1)); }
metrics_port() { echo $((22381 + 10 * $1)); }
endpoints() { local list=() i; for i in 0 1 2; do list+=("127.0.0.1:$(client_port "$i")"); done; (IFS=,; echo "${list[*]}"); }

say() { printf '==> %s\n' "$*"; }
fail() { printf 'local-cluster: %s\n' "$*" >&2; printf 'clean up with: make down\n' >&2; exit 1; }

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

start_member() {
  local i=$1 name=${members[$1]} cluster="" j
  for j in 0 1 2; do cluster+="${members[$j]}=http://127.0.0.1:$(peer_port "$j"),"; done
  if running "$name"; then say "$name already running (pid $(cat "$state/$name.pid"))"; return; fi
  nohup "$root/scripts/flotilla" store --name "$name" --data-dir "$state/$name" \
    --listen-client-urls "http://127.0.0.1:$(client_port "$i")" --advertise-client-urls "http://127.0.0.1:$(client_port "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
    --listen-metrics-urls "http://127.0.0.1:$(metrics_port "$i")" \
    --initial-cluster "${cluster%,}" --initial-cluster-token flotilla-local >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
  say "started $name (pid $!, log $state/$name.log)"
}

up() {
  mkdir -p "$state"
  say "step 1/3: starting 3 store members"
  for i in 0 1 2; do start_member "$i"; done
  say "step 2/3: waiting until every member is healthy (at most 60 s)"
  local deadline=$((SECONDS + 60))
  until ETCDCTL_API=3 etcdctl --endpoints="$(endpoints)" endpoint health >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "members not healthy after 60 s; see $state/*.log"
    sleep 1
  done
  say "step 3/3: writing and reading a demo key"
  ETCDCTL_API=3 etcdctl --endpoints="$(endpoints)" put /demo/hello "from flotilla" >/dev/null || fail "demo put failed"
  ETCDCTL_API=3 etcdctl --endpoints="$(endpoints)" get /demo/hello
  cat <<EOM

Flotilla's store is running: 3 members speaking the etcd v3 API.
  export ETCDCTL_API=3 ETCDCTL_ENDPOINTS=$(endpoints)
  etcdctl member list -w table
  etcdctl endpoint status -w table
  etcdctl put /key value && etcdctl get /key
  curl -s http://127.0.0.1:$(metrics_port 0)/health
Stop and remove it with: make down
(The API server, controllers and agents are not built yet; see README.md.)
EOM
}

down() {
  local name
  for name in "${members[@]}"; do
    if running "$name"; then kill "$(cat "$state/$name.pid")" && say "stopped $name"; fi
  done
  for name in "${members[@]}"; do
    local pid_file="$state/$name.pid" waited=0
    while [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null && [ $waited -lt 50 ]; do sleep 0.2; waited=$((waited + 1)); done
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then kill -9 "$(cat "$pid_file")"; fi
  done
  rm -rf "$state"
  say "removed $state"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
