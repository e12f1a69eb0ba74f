#!/usr/bin/env bash
# Runs the simulator against a scratch copy of the repository with one bug planted inside
# libs/raft, so the shared checkout (and the Raft engineer's work in it) is never modified.
#   test/sim/planted/run.sh test/sim/planted/vote-without-log-check.patch --seeds 200 --replicas 3
# Extra arguments go to test/sim/main.ts. The copy is deleted on exit.
set -euo pipefail
patch_file=$(realpath "$1")
shift
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$repo/libs" "$scratch/libs"
mkdir -p "$scratch/test"
cp -r "$repo/test/sim" "$scratch/test/sim"
cp "$repo/package.json" "$repo/tsconfig.json" "$scratch/"
ln -s "$repo/node_modules" "$scratch/node_modules"
(cd "$scratch" && git apply --whitespace=nowarn "$patch_file")
echo "planted $(basename "$patch_file") in $scratch"
cd "$scratch"
node --import tsx test/sim/main.ts "$@"
