#!/usr/bin/env bash
# Reproduces the results shown in the README under docs/results/: the notebook's 10-epoch run, the comparison
# of normalization variants and the landscape / activation-drift analysis, on real Fashion-MNIST
# (apt-get install dataset-fashion-mnist) or, when present, CIFAR-10 with --dataset cifar10.
#   scripts/reproduce-results.sh [--dataset fashion-mnist] [--train-limit N]
# Extra arguments go to compare and analyze (for example --train-limit 20000 for a shorter run).
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=fashion-mnist
if [ "${1:-}" = "--dataset" ]; then dataset=$2; shift 2; fi
out=docs/results
stamp=$(date +%Y%m%d-%H%M%S)
dotnet build -c Release src/CifarBatchNorm.Cli >/dev/null
cli=(dotnet src/CifarBatchNorm.Cli/bin/Release/net10.0/cifar-bn.dll)

"${cli[@]}" train --dataset "$dataset" --output "runs/notebook-$stamp"
"${cli[@]}" compare --variants bn,none,bn-before-relu,renorm --seeds 3 --epochs 10 --dataset "$dataset" "$@" --output "runs/compare-$stamp"
"${cli[@]}" analyze --variants bn,none --epochs 10 --probe-every 50 --dataset "$dataset" "$@" --output "runs/analyze-$stamp"

mkdir -p "$out"
rm -rf "$out/$dataset-notebook" "$out/compare-$dataset" "$out/analyze-$dataset"
mkdir -p "$out/$dataset-notebook"
cp "runs/notebook-$stamp"/{history.csv,history.json,config.json,summary.txt,evaluation.json} "$out/$dataset-notebook/"
cp -r "runs/compare-$stamp" "$out/compare-$dataset"
cp -r "runs/analyze-$stamp" "$out/analyze-$dataset"
echo "Results copied to $out/"
