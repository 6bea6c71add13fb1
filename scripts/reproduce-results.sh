#!/usr/bin/env bash
# Reruns every experiment in docs/results with the commands that made it, on the real Fashion-MNIST
# (apt-get install dataset-fashion-mnist). CIFAR-10 runs are the same commands with --dataset cifar10.
# The README's result commands are these lines (a test checks it); each results.json records the commit, version,
# machine and exact command that produced it.
#
# Usage: scripts/reproduce-results.sh [--quick] [--out DIR] [--only NAME[,NAME...]] [--cli PATH/cifar-bn.dll]
#   --quick  a shorter version (fewer seeds, epochs and images) to check the pipeline; its numbers mean little
#   --out    where to write (default: docs/results, replacing what is there)
#   --only   run only these folders (e.g. learning-rate-fashion-mnist,small-batch-fashion-mnist)
#   --cli    run this build of the command line instead of building one (keeps a long sweep safe from rebuilds)
# Full length on 2 idle cores: about an hour for the comparison (25 runs of 10 epochs; it continues after an
# interruption with `cifar-bn compare --resume DIR`), 5 to 15 minutes for each of the others.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/docs/results"
quick=0
only=""
cli_dll=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    --cli) cli_dll="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [[ -z "$cli_dll" ]]; then
  dotnet build "$root/src/CifarBatchNorm.Cli/CifarBatchNorm.Cli.csproj" -c Release -nologo -v quiet
  cli_dll="$root/src/CifarBatchNorm.Cli/bin/Release/net10.0/cifar-bn.dll"
fi
cifar_bn() { dotnet "$cli_dll" "$@"; }
# few: seeds of the shorter experiments on subsets (3: what two shared cores allow; each report states the smallest
# difference that many seeds detect at 80% power).
if (( quick )); then seeds=2; epochs=2; few=2; limit=(--train-limit 4000 --test-limit 2000); else seeds=5; epochs=10; few=3; limit=(); fi

wanted() { [[ -z "$only" || "$only" == *",$1,"* ]]; }
fresh() { rm -rf "$out/$1"; mkdir -p "$out"; echo "$out/$1"; }

# 0. The notebook itself: 10 epochs of the notebook's model and settings, validated on the test set as it does.
if wanted fashion-mnist-notebook; then
  cifar_bn train --dataset fashion-mnist "${limit[@]}" --epochs "$epochs" -o "$(fresh fashion-mnist-notebook)"
  # The trained weights and the resume checkpoint are not results (the run is reproducible from its seed).
  rm -rf "$out/fashion-mnist-notebook"/{model.pt,checkpoint.json,status.json} "$out/fashion-mnist-notebook"/checkpoint-*
fi

# 1. The full comparison: every variant on the training images (10% held out for validation), 5 seeds; bn-m09 is BN
#    at momentum 0.9, the control for the lag of the moving statistics.
if wanted compare-fashion-mnist; then
  cifar_bn compare --dataset fashion-mnist "${limit[@]}" --variants bn,none,bn-before-relu,renorm,bn-m09 --seeds "$seeds" --epochs "$epochs" \
    --validation-split 0.1 --loss-target 0.3 -o "$(fresh compare-fashion-mnist)"
  # Each variant's time per step (alternating in one process; on an otherwise idle machine), then the report again
  # with steps to the loss target turned into seconds.
  cifar_bn bench --cases variant-step --repeats 5 -o "$out/compare-fashion-mnist/bench.json"
  cifar_bn compare report "$out/compare-fashion-mnist"
fi

# 2. BN and the learning rate: does BN train where no-BN diverges or stalls? (10,000 images, 5 epochs)
if wanted learning-rate-fashion-mnist; then
  cifar_bn compare --dataset fashion-mnist --variants bn,none --seeds "$seeds" --epochs $(( quick ? 2 : 5 )) \
    --train-limit 10000 --test-limit 5000 --validation-split 0.1 --learning-rates 1e-3,1e-2,3e-2 --loss-target 0.4 --target-accuracy 0.8 \
    -o "$(fresh learning-rate-fashion-mnist)"
fi

# 3. Renorm's regime (a): small minibatches of 4 and 8 on 3,000 images. Adam's learning rate scaled by about
#    sqrt(batch / 256) from the notebook's 1e-3, rounded to 1e-4.
if wanted small-batch-fashion-mnist; then
  cifar_bn compare --dataset fashion-mnist --variants bn,renorm --seeds "$few" --epochs $(( quick ? 1 : 3 )) \
    --train-limit 3000 --test-limit 2000 --validation-split 0.1 --batch-sizes 4,8 --lr 1e-4 --loss-target 0.5 --target-accuracy 0.8 \
    -o "$(fresh small-batch-fashion-mnist)"
fi

# 3. Renorm's regime (b): non-i.i.d. minibatches (about two classes per batch), and the same runs i.i.d. for reference;
#    none is the control that shows whether non-i.i.d. batches hurt BN more than no normalization.
for sampling in noniid iid; do
  if wanted "batch-sampling-$sampling-fashion-mnist"; then
    cifar_bn compare --dataset fashion-mnist --variants bn,renorm,none --seeds "$few" --epochs $(( quick ? 1 : 3 )) \
      --train-limit 20000 --test-limit 5000 --validation-split 0.1 --batch-size 64 --batch-sampling "$sampling" --loss-target 0.5 --target-accuracy 0.8 \
      -o "$(fresh "batch-sampling-$sampling-fashion-mnist")"
  fi
done

# 4. Why BN helps (Santurkar et al. 2018): loss landscape, gradient predictiveness, activation drift and the ICS
#    measure, bn vs none, on all 60,000 training images, 3 seeds, a probe every 100 steps (23 per run).
if wanted analyze-fashion-mnist; then
  cifar_bn analyze --dataset fashion-mnist "${limit[@]}" --variants bn,none --seeds "$few" --epochs "$epochs" --probe-every 100 \
    -o "$(fresh analyze-fashion-mnist)"
fi

# The run folders' locks (released when each command ends) are not results, nor is a finished sweep's working state
# (per-run checkpoints and results, status, the record --resume reads): results.json (analysis.json) holds every number.
find "$out" -name .lock -delete
for done in "$out"/*/results.json "$out"/*/analysis.json; do
  [[ -e "$done" ]] && rm -rf "$(dirname "$done")/runs" "$(dirname "$done")/variants" "$(dirname "$done")/status.json" "$(dirname "$done")/sweep.json"
done
