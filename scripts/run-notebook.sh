#!/usr/bin/env bash
# Runs a C# notebook (.NET Interactive .ipynb) headless and writes the executed copy, outputs included:
#
#   scripts/run-notebook.sh [--quick] [--no-build] IN.ipynb OUT.ipynb
#
#   --quick     the notebook's quick setting (CIFAR_BATCHNORM_NOTEBOOK_QUICK=1: 1 epoch on 512 images); other
#               CIFAR_BATCHNORM_NOTEBOOK_* variables in the environment reach the notebook as they are
#   --no-build  skip `dotnet build src/CifarBatchNorm.Cli -c Release` (the build output the notebook references)
#
# Exit status: 0 when every cell ran without an error, else non-zero (OUT.ipynb is still written, with the errors).
#
# Why dotnet-repl (0.3.259, a .NET tool from NuGet) and not Jupyter's nbconvert: dotnet-repl runs the notebook with
# the .NET Interactive C# kernel inside one process and writes the executed .ipynb itself
# (--run IN --exit-after-run --output-format ipynb --output-path OUT), so nothing but the .NET SDK is needed.
# nbconvert would need Python, Jupyter, the Microsoft.dotnet-interactive tool and its kernel registered with Jupyter
# (`dotnet interactive jupyter install`), three moving parts for the same result. dotnet-repl targets an older .NET:
# DOTNET_ROLL_FORWARD=Major lets it run on .NET 10 (checked: 0.3.259 on .NET 10.0).
set -euo pipefail

REPL_VERSION=0.3.259
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${CIFAR_BATCHNORM_TOOLS:-$root/artifacts/tools}

build=1
args=()
for arg in "$@"; do
  case "$arg" in
    --quick) export CIFAR_BATCHNORM_NOTEBOOK_QUICK=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run-notebook.sh: unknown option $arg (use --quick, --no-build)" >&2; exit 2 ;;
    *) args+=("$arg") ;;
  esac
done
if [ ${#args[@]} -ne 2 ]; then
  echo "usage: scripts/run-notebook.sh [--quick] [--no-build] IN.ipynb OUT.ipynb" >&2
  exit 2
fi
in=${args[0]}
out=${args[1]}
[ -f "$in" ] || { echo "run-notebook.sh: $in is not a file" >&2; exit 1; }
in_abs=$(cd "$(dirname "$in")" && pwd)/$(basename "$in")
mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

if [ ! -x "$tools/dotnet-repl" ]; then
  echo "Installing dotnet-repl $REPL_VERSION into $tools" >&2
  dotnet tool install dotnet-repl --version "$REPL_VERSION" --tool-path "$tools" >&2
fi

if [ "$build" = 1 ]; then
  dotnet build "$root/src/CifarBatchNorm.Cli" -c Release --nologo -v quiet >&2
fi

# The notebook's #r paths are relative to its folder: the kernel starts there, as in VS Code and Jupyter.
# The executed copy is written under a temporary name and renamed, so OUT is never half-written.
partial="$out_abs.partial.ipynb"
trap 'rm -f "$partial"' EXIT
cd "$(dirname "$in_abs")"
status=0
DOTNET_ROLL_FORWARD=Major "$tools/dotnet-repl" --run "$in_abs" --working-dir "$PWD" --exit-after-run \
  --output-format ipynb --output-path "$partial" || status=$?
if [ ! -s "$partial" ]; then
  echo "run-notebook.sh: dotnet-repl wrote no notebook (exit $status)" >&2
  exit $(( status == 0 ? 1 : status ))
fi
mv -f "$partial" "$out_abs"
if [ "$status" -ne 0 ]; then
  echo "run-notebook.sh: a cell failed (dotnet-repl exit $status); the errors are in $out" >&2
fi
exit "$status"
