#!/usr/bin/env bash
# `make up`: a whole Flotilla cluster on this machine (3 control-plane replicas and 2 agent hosts
# in network namespaces, through scripts/testbed), a demo app, and how to reach it.
# `make down` (scripts/up.sh down) removes everything. Running `up` twice is safe: the second run
# finds the cluster up, applies the demo again (unchanged objects stay as they are) and prints the
# same instructions. A failure names its step and how to clean up.
# Environment: FLOTILLA_UP_NAME (testbed name, default fl), FLOTILLA_UP_STATE_DIR,
# FLOTILLA_UP_SERVERS (3), FLOTILLA_UP_AGENTS (2).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=${FLOTILLA_UP_NAME:-fl}
state_dir=${FLOTILLA_UP_STATE_DIR:-/var/lib/flotilla-testbed}
servers=${FLOTILLA_UP_SERVERS:-3}
agents=${FLOTILLA_UP_AGENTS:-2}
rollout_timeout=180s
step_number=0
steps_total=4
step_title=""

step() {
  step_number=$((step_number + 1))
  step_title=$*
  printf '\n==> step %d/%d: %s\n' "$step_number" "$steps_total" "$*"
}
cleanup_command() {
  if [ -z "${FLOTILLA_UP_NAME:-}" ] && [ -z "${FLOTILLA_UP_STATE_DIR:-}" ]; then
    echo "make down"
  else
    echo "FLOTILLA_UP_NAME=$name FLOTILLA_UP_STATE_DIR=$state_dir $root/scripts/up.sh down"
  fi
}
fail() {
  printf '\nmake up failed at step %d/%d (%s): %s\n' "$step_number" "$steps_total" "$step_title" "$*" >&2
  printf 'Logs: %s/%s/*/flotilla-*.log and %s/%s/*/containerd/containerd.log\n' "$state_dir" "$name" "$state_dir" "$name" >&2
  printf 'Clean up with: %s   (then run make up again)\n' "$(cleanup_command)" >&2
  exit 1
}

up() {
  local kubeconfig="$state_dir/$name/s1/admin.kubeconfig"
  step "cluster: $servers control-plane replicas and $agents agent hosts (scripts/testbed)"
  if [ -f "$state_dir/$name/state.json" ] && KUBECONFIG=$kubeconfig kubectl get --raw /readyz >/dev/null 2>&1; then
    echo "testbed $name is already running"
  else
    [ ! -f "$state_dir/$name/state.json" ] || fail "testbed $name exists ($state_dir/$name) but its API does not answer"
    "$root/scripts/testbed" up --servers "$servers" --agents "$agents" --name "$name" --state-dir "$state_dir" | tail -n 1 || fail "scripts/testbed up"
  fi
  export KUBECONFIG=$kubeconfig
  step "demo app: a Deployment of busybox httpd with a page from a ConfigMap, behind NodePort 30080"
  kubectl apply -f "$root/cluster-config/demo/hello.yaml" || fail "kubectl apply of the demo"
  step "waiting for the demo's pods to be ready (at most $rollout_timeout)"
  kubectl rollout status deployment/hello --timeout="$rollout_timeout" || fail "the demo did not become ready"
  step "checking the demo answers through its NodePort"
  local node_ip
  node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
  local deadline=$((SECONDS + 30))
  until curl -sf --max-time 2 "http://$node_ip:30080/" >/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "http://$node_ip:30080/ does not answer"
    sleep 1
  done
  cat <<EOM

Flotilla is running: $servers control-plane replicas and $agents agents on this machine.

  export KUBECONFIG=$kubeconfig
  kubectl get nodes -o wide
  kubectl get pods -o wide
  $root/scripts/flotilla get deployments          # the flotilla CLI speaks kubectl's verbs too

The demo answers on every node's port 30080:
  curl http://$node_ip:30080/

Remove everything with: $(cleanup_command)
EOM
}

down() {
  "$root/scripts/testbed" down --name "$name" --state-dir "$state_dir"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
