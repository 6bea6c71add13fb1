#!/bin/sh
# One pod of the Indexed Job in shards-job.yaml: shard JOB_COMPLETION_INDEX+1 of SHARDS of the sweep in DIR.
# Usage: cifar-bn-shard DIR COMPARE-ARGS...   (environment: JOB_COMPLETION_INDEX from Kubernetes, SHARDS)
#
# First attempt: `cifar-bn compare COMPARE-ARGS --shard K/N --output DIR/shard-I`. Once DIR/shard-I holds a started
# sweep (its sweep.json), a replacement pod runs `cifar-bn compare --resume DIR/shard-I`; a finished shard exits 0.
# cifar-bn replaces this shell (exec), so it receives the pod's SIGTERM itself: it checkpoints and exits 130.
set -eu
dir="$1"
shift
index="${JOB_COMPLETION_INDEX:?not a pod of an Indexed Job}"
shards="${SHARDS:?set SHARDS to the Job's completions}"
shard="$dir/shard-$index"
if [ -f "$shard/results.json" ] && grep -qs '"state": *"complete"' "$shard/status.json"; then
  echo "Shard $((index + 1))/$shards finished earlier: $shard"
  exit 0
fi
if [ -f "$shard/sweep.json" ]; then
  exec cifar-bn compare --resume "$shard"
fi
exec cifar-bn compare "$@" --shard "$((index + 1))/$shards" --output "$shard"
