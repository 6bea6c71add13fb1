#!/usr/bin/env bash
# Reruns every experiment in docs/results with the commands that made it, on the real Fashion-MNIST
# (apt-get install dataset-fashion-mnist). CIFAR-10 runs are the same commands with --dataset cifar10.
#
# Usage: scripts/reproduce-results.sh [--quick] [--out DIR]
#   --quick  a shorter version (fewer seeds, epochs and images) to check the pipeline; its numbers mean little
#   --out    where to write (default: docs/results, replacing what is there)
# Full length on 2 cores: about 35 minutes for the comparison, a few minutes for each of the others
# (the analysis about 15).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/docs/results"
quick=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

dotnet build "$root/src/CifarBatchNorm.Cli/CifarBatchNorm.Cli.csproj" -c Release -nologo -v quiet
cli=(dotnet "$root/src/CifarBatchNorm.Cli/bin/Release/net10.0/cifar-bn.dll")
data=(--dataset fashion-mnist)
if (( quick )); then seeds=2; epochs=2; limit=(--train-limit 4000 --test-limit 2000); else seeds=5; epochs=10; limit=(); fi

fresh() { rm -rf "$out/$1"; mkdir -p "$out"; echo "$out/$1"; }

# 1. The full comparison: every variant on all 60,000 training images, 5 seeds.
"${cli[@]}" compare "${data[@]}" "${limit[@]}" --variants bn,none,bn-before-relu,renorm --seeds "$seeds" --epochs "$epochs" \
  --loss-target 0.3 -o "$(fresh compare-fashion-mnist)"

# 2. BN and the learning rate: does BN train where no-BN diverges or stalls? (10,000 images, 5 epochs, 3 seeds)
"${cli[@]}" compare "${data[@]}" --variants bn,none --seeds $(( quick ? 2 : 3 )) --epochs $(( quick ? 2 : 5 )) \
  --train-limit 10000 --test-limit 5000 --learning-rates 1e-3,1e-2,3e-2 --loss-target 0.4 --target-accuracy 0.8 \
  -o "$(fresh learning-rate-fashion-mnist)"

# 3. Renorm's regime (a): small minibatches of 4 and 8 on 3,000 images. Adam's learning rate scaled by about
#    sqrt(batch / 256) from the notebook's 1e-3, rounded to 1e-4.
"${cli[@]}" compare "${data[@]}" --variants bn,renorm --seeds $(( quick ? 2 : 3 )) --epochs $(( quick ? 1 : 3 )) \
  --train-limit 3000 --test-limit 2000 --batch-sizes 4,8 --lr 1e-4 --loss-target 0.5 --target-accuracy 0.8 \
  -o "$(fresh small-batch-fashion-mnist)"

# 3. Renorm's regime (b): non-i.i.d. minibatches (about two classes per batch), and the same runs i.i.d. for reference.
for sampling in noniid iid; do
  "${cli[@]}" compare "${data[@]}" --variants bn,renorm --seeds $(( quick ? 2 : 3 )) --epochs $(( quick ? 1 : 3 )) \
    --train-limit 20000 --test-limit 5000 --batch-size 64 --batch-sampling "$sampling" --loss-target 0.5 --target-accuracy 0.8 \
    -o "$(fresh "batch-sampling-$sampling-fashion-mnist")"
done

# 4. Why BN helps (Santurkar et al. 2018): loss landscape, gradient predictiveness, activation drift and the ICS
#    measure, bn vs none, on all 60,000 training images.
"${cli[@]}" analyze "${data[@]}" "${limit[@]}" --variants bn,none --epochs "$epochs" -o "$(fresh analyze-fashion-mnist)"
