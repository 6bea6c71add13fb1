#!/usr/bin/env bash
# Runs a `cifar-bn compare` sweep on a Slurm cluster: one array job of N shards and one merge job that waits for them.
#
# Usage: scripts/slurm/compare.sh --shards N --output DIR [--wait] [--partition P] [--cpus-per-task C] [--time T]
#                                 -- COMPARE-ARGS
#   --shards N         array tasks 0..N-1; task i runs `compare COMPARE-ARGS --shard i+1/N --output DIR/shard-i`
#   --output DIR       the sweep's folder (on a file system every node sees); the merged results, plots and report
#                      land in DIR itself, the logs in DIR/logs
#   --wait             return when the merge job ends, with its exit status
#   --partition P, --cpus-per-task C, --time T   passed to sbatch for every job; a shard trains on as many threads
#                      as the CPUs Slurm binds it to (where Slurm binds none, TaskPlugin=task/none, add --threads C
#                      to COMPARE-ARGS)
# Prints the two job ids. A task that is signalled before its time limit (sbatch --signal=B:TERM@120) or with
# `scancel --signal=TERM --batch` checkpoints, exits 130 and requeues itself; the next attempt continues with
# `compare --resume`. Running the same command again with the same DIR resubmits: finished shards are kept,
# interrupted ones resume, and the merge runs again.
# The CLI: $CIFAR_BN_COMMAND (shell words, e.g. "dotnet /opt/cifar-bn/cifar-bn.dll") when set, else `cifar-bn` on
# PATH, else this repository's build (`dotnet publish` or `dotnet build -c Release` of src/CifarBatchNorm.Cli).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

fail() { echo "error: $1" >&2; exit "${2:-2}"; }

shards="" output="" wait=0 cpus=""
sbatch_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --shards) [[ $# -ge 2 ]] || fail "--shards needs a number"; shards="$2"; shift 2 ;;
    --output|-o) [[ $# -ge 2 ]] || fail "--output needs a folder"; output="$2"; shift 2 ;;
    --wait) wait=1; shift ;;
    --partition) [[ $# -ge 2 ]] || fail "--partition needs a name"; sbatch_args+=("--partition=$2"); shift 2 ;;
    --cpus-per-task) [[ $# -ge 2 ]] || fail "--cpus-per-task needs a number"; cpus="$2"; shift 2 ;;
    --time) [[ $# -ge 2 ]] || fail "--time needs a time limit, e.g. 02:00:00"; sbatch_args+=("--time=$2"); shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    --) shift; break ;;
    *) fail "unknown option '$1'; the compare options go after '--' (see --help)" ;;
  esac
done
compare_args=("$@")

[[ "$shards" =~ ^[1-9][0-9]*$ ]] || fail "--shards '${shards}' is not a whole number of at least 1; give e.g. --shards 4"
[[ -n "$output" ]] || fail "--output DIR is required: the sweep's folder, on a file system every node sees"
if [[ -n "$cpus" ]]; then
  [[ "$cpus" =~ ^[1-9][0-9]*$ ]] || fail "--cpus-per-task '$cpus' is not a whole number of at least 1"
  sbatch_args+=("--cpus-per-task=$cpus")
fi
for arg in "${compare_args[@]}"; do
  case "$arg" in
    --shard|--shard=*|--output|--output=*|-o|--resume|--resume=*)
      fail "'$arg' is set by this script for each shard; leave it out of the compare arguments" ;;
    merge|report) fail "'compare $arg' is not a sweep; give the options of 'cifar-bn compare' after '--'" ;;
  esac
done
command -v sbatch >/dev/null || fail "sbatch not found: run this on a Slurm login node (Debian/Ubuntu: apt-get install slurm-client)" 1

# The CLI, resolved here to absolute paths so that the jobs run the same one wherever they start.
if [[ -n "${CIFAR_BN_COMMAND:-}" ]]; then
  eval "cli=($CIFAR_BN_COMMAND)"
elif tool="$(command -v cifar-bn)"; then
  cli=("$tool")
else
  dotnet="$(command -v dotnet)" || fail "no cifar-bn on PATH and no dotnet to run this repository's build; install the tool (README: Install the command line) or set CIFAR_BN_COMMAND" 1
  # The newest of a `dotnet publish` and a `dotnet build -c Release` of the CLI.
  dll=$(ls -t "$root"/src/CifarBatchNorm.Cli/bin/Release/net10.0/{,linux-x64/}{publish/,}cifar-bn.dll 2>/dev/null | head -n 1 || true)
  cli=()
  [[ -n "$dll" ]] && cli=("$dotnet" "$dll")
  [[ ${#cli[@]} -gt 0 ]] || fail "no cifar-bn on PATH and no build in $root/src/CifarBatchNorm.Cli/bin/Release; run 'dotnet build -c Release' there, install the tool, or set CIFAR_BN_COMMAND" 1
fi

mkdir -p "$output/logs"
dir="$(cd "$output" && pwd)"

# A folder whose shards have started is resubmitted only with the same arguments: its shards resume.
record="$dir/slurm-sweep.txt"
quoted=""
[[ ${#compare_args[@]} -eq 0 ]] || printf -v quoted ' %q' "${compare_args[@]}"
wanted="shards $shards"$'\n'"compare$quoted"$'\n'
started=("$dir"/shard-*/sweep.json)
if [[ -e "${started[0]}" && -f "$record" && "$(cat "$record")"$'\n' != "$wanted" ]]; then
  fail "$dir holds a started sweep with other arguments (see $record); resubmit it with those, or choose a new --output"
fi
printf '%s' "$wanted" > "$record.tmp" && mv "$record.tmp" "$record"

array=$(sbatch --parsable --job-name=cifar-bn-shard --array="0-$((shards - 1))" --requeue --signal=B:TERM@120 \
  --open-mode=append --output="$dir/logs/shard-%a.log" "${sbatch_args[@]}" \
  "$here/shard.sbatch" "$dir" "$shards" "${#cli[@]}" "${cli[@]}" "${compare_args[@]}")
array="${array%%;*}"
echo "Shards: array job $array (tasks 0-$((shards - 1))), logs in $dir/logs/shard-<task>.log"

merge=$(sbatch --parsable --job-name=cifar-bn-merge --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --open-mode=append --output="$dir/logs/merge.log" "${sbatch_args[@]}" \
  "$here/merge.sbatch" "$dir" "$shards" "${#cli[@]}" "${cli[@]}")
merge="${merge%%;*}"
echo "Merge: job $merge (starts when every shard has succeeded), log in $dir/logs/merge.log"
(( wait )) || exit 0

# Until the merge job has ended: poll its state (every 1 s at first, then every 5 s).
interval=1
while :; do
  if line=$(scontrol show job -o "$merge" 2>&1); then
    state=$(grep -o 'JobState=[A-Z_]*' <<<"$line" | head -n 1)
    state="${state#JobState=}"
    case "$state" in
      PENDING|CONFIGURING|RUNNING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_HOLD|RESIZING|SIGNALING|STAGE_OUT|"") ;;
      *) break ;;
    esac
  elif [[ "$line" == *"Invalid job id"* ]]; then
    fail "merge job $merge is no longer known to Slurm; see $dir/logs/merge.log and whether $dir/results.json exists" 1
  fi
  sleep "$interval"
  (( interval < 5 )) && interval=$((interval + 1))
done

exit_code=$(grep -o 'ExitCode=[0-9]*:[0-9]*' <<<"$line" | head -n 1)
exit_code="${exit_code#ExitCode=}"
code="${exit_code%%:*}" signal="${exit_code##*:}"
(( code == 0 && signal > 0 )) && code=$((128 + signal))
[[ "$state" == COMPLETED ]] || (( code != 0 )) || code=1
if (( code == 0 )); then
  echo "Merged results, plots and report: $dir"
else
  reason=$(grep -o 'Reason=[A-Za-z_]*' <<<"$line" | head -n 1)
  reason="${reason#Reason=}"
  if [[ "$reason" == Dependency* ]]; then why="a shard failed"; else why="the merge failed"; fi
  echo "error: merge job $merge ended $state ($reason, exit $exit_code): $why; see $dir/logs. Run the same command again to resubmit: finished shards are kept, interrupted ones resume." >&2
fi
exit "$code"
