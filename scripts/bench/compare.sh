#!/usr/bin/env bash
# Compares `cifar-bn bench` (TorchSharp) with the PyTorch peer (scripts/bench/pytorch_reference.py), running
# them alternately for several rounds, and prints per-case ratios (median of the per-round ratios) and the
# absolute numbers. Timings are noisy on a shared machine: trust the ratios, not single numbers.
#
# Usage: scripts/bench/compare.sh [--rounds N] [--repeats N] [--quick] [--out DIR] [--fused-kernels]
# --fused-kernels adds a third side, `cifar-bn bench --fused-kernels` (the fused ReLU + batch-norm kernels, channels-last
# throughout), run in the same rounds (the order rotates every round) and compared with both others.
set -euo pipefail

rounds=3
repeats=3
quick=""
out=""
fused=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --quick) quick="--quick"; shift ;;
    --out) out="$2"; shift 2 ;;
    --fused-kernels) fused=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${out:-$root/artifacts/bench-compare}"
mkdir -p "$out"
py=/usr/bin/python3  # Debian's python3-torch lives in the system interpreter, not in pyenv or a venv

# The peer: Debian's PyTorch with OpenBLAS (the reference BLAS it falls back to is several times slower).
if ! "$py" -c "import torch" 2>/dev/null || ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch libopenblas0-pthread
fi

# The same allocator for both sides. `cifar-bn` restarts itself on jemalloc (page return off) when it is installed;
# the peer gets the same library and options. Without jemalloc both use glibc with freed buffers kept.
jemalloc=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)
if [[ -n "$jemalloc" ]]; then
  peer_env=(env LD_PRELOAD="$jemalloc" MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1)
else
  peer_env=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736)
fi
# The peer loads OpenBLAS whichever libblas.so.3 the system's alternatives point at (the reference BLAS stays the
# system default where something else chose it).
peer_env+=(LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-pthread${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
# OpenMP wait policy: each side's default (libgomp spins, then sleeps); `cifar-bn` switches to PASSIVE by itself when
# other processes keep the cores busy at start-up. bench.json and the peer's JSON record what was in force. Set
# OMP_WAIT_POLICY before calling this script to impose one policy on both.
threads=2

dotnet build "$root/src/CifarBatchNorm.Cli/CifarBatchNorm.Cli.csproj" -c Release -nologo -v quiet
cli="$root/src/CifarBatchNorm.Cli/bin/Release/net10.0/cifar-bn.dll"

run_net() { dotnet "$cli" bench --cases train-step,eval --repeats "$repeats" --threads "$threads" $quick -o "$out/net-$1.json" >"$out/net-$1.log"; }
run_peer() { "${peer_env[@]}" "$py" "$root/scripts/bench/pytorch_reference.py" --repeats "$repeats" --threads "$threads" $quick --output "$out/peer-$1.json" >"$out/peer-$1.log"; }

run_fused() { dotnet "$cli" bench --cases train-step,eval --repeats "$repeats" --threads "$threads" $quick --fused-kernels -o "$out/fused-$1.json" >"$out/fused-$1.log"; }

rm -f "$out"/fused-*.json
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds"
  if (( fused )); then
    case $(( (round - 1) % 3 )) in
      0) run_net "$round"; run_fused "$round"; run_peer "$round" ;;
      1) run_fused "$round"; run_peer "$round"; run_net "$round" ;;
      2) run_peer "$round"; run_net "$round"; run_fused "$round" ;;
    esac
  elif (( round % 2 == 1 )); then run_net "$round"; run_peer "$round"; else run_peer "$round"; run_net "$round"; fi
done

"$py" - "$out" "$rounds" "$fused" <<'PY'
import json, statistics, sys
out, rounds, fused = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
load = lambda kind, r: json.load(open(f"{out}/{kind}-{r}.json"))
cases = [("train_step_32x32x3_ms", "ms", "time ratio (goal <= 0.8)"),
         ("train_step_28x28x1_ms", "ms", "time ratio (goal <= 0.8)"),
         ("eval_images_per_second", "images/s", "throughput ratio (goal >= 1.3)")]
pairs = [("net", "peer", "TorchSharp", "PyTorch")]
if fused:
    pairs += [("fused", "peer", "fused", "PyTorch"), ("fused", "net", "fused", "unfused")]
for a, b, name_a, name_b in pairs:
    print(f"{'case':<26} {name_a:>12} {name_b:>12} {'ratio':>8}  meaning (medians; ratio = median of per-round ratios)")
    for field, unit, meaning in cases:
        if b == "net":
            meaning = meaning.split(" (goal")[0]
        side_a = [load(a, r)[field]["median"] for r in range(1, rounds + 1)]
        side_b = [load(b, r)[field]["median"] for r in range(1, rounds + 1)]
        ratios = [n / p for n, p in zip(side_a, side_b)]
        # The best of all rounds is the least disturbed by other work on a shared machine.
        best = min if unit == "ms" else max
        a_best = best(load(a, r)[field]["min" if unit == "ms" else "max"] for r in range(1, rounds + 1))
        b_best = best(load(b, r)[field]["min" if unit == "ms" else "max"] for r in range(1, rounds + 1))
        print(f"{field:<26} {statistics.median(side_a):>12.2f} {statistics.median(side_b):>12.2f} {statistics.median(ratios):>8.3f}  "
              f"{name_a}/{name_b} {meaning}; {unit}; per round: {', '.join(f'{r:.3f}' for r in ratios)}; "
              f"best {a_best:.2f} vs {b_best:.2f} = {a_best / b_best:.3f}")
for kind in ("net", "fused", "peer") if fused else ("net", "peer"):
    first = load(kind, 1)
    print(f"{kind}: {first['machine']}; allocator {first.get('allocator')}; OpenMP wait {first.get('omp_wait_policy')}"
          + (f"; execution {first['execution']}" if first.get("execution") else ""))
    # The .NET side picks PASSIVE when it starts on busy cores: say so when the rounds of a side did not all run alike.
    waits = [load(kind, r).get("omp_wait_policy") for r in range(1, rounds + 1)]
    if len(set(waits)) > 1:
        print(f"warning: {kind}'s rounds ran under different OpenMP waits ({'; '.join(f'round {r}: {w}' for r, w in enumerate(waits, 1))}): "
              "other work was running when some started; compare those rounds with care or run again on idle cores")
PY
