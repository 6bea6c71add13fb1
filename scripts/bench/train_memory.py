#!/usr/bin/python3
"""Resident memory of a whole `cifar-bn train` run, final evaluation included, measured from outside the process.

Runs the CLI as a child process, samples its VmRSS every 0.2 s (the jemalloc and glibc restarts keep the pid), notes
the RSS when each "Epoch k/N" line appears (the end of epoch k-1) and after the run's last line, and prints the peak,
the RSS at the end of epoch 2 and the highest RSS after it (growth = that / end of epoch 2 - 1), so a climb during
the final evaluation counts against the run. Usage:

    scripts/bench/train_memory.py [--epochs 10] [--allocator jemalloc|glibc] [--cli PATH] [-- extra train arguments]

Default: 10 epochs of the synthetic CIFAR-10-sized set (50,000 + 10,000 images), as docs/performance.md measures.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "src", "CifarBatchNorm.Cli", "bin", "Release", "net10.0", "cifar-bn.dll")


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--allocator", choices=["jemalloc", "glibc"], default="jemalloc")
    parser.add_argument("--cli", default=CLI, help="the cifar-bn.dll to run (a copy lets the tree be rebuilt meanwhile)")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()

    env = dict(os.environ)
    if args.allocator == "glibc":
        env["CIFAR_BATCHNORM_ALLOCATOR"] = "glibc"
    with tempfile.TemporaryDirectory() as folder:
        command = ["dotnet", args.cli, "train", "--dataset", "synthetic", "--epochs", str(args.epochs),
                   "--output", os.path.join(folder, "run"), *args.extra]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                value = rss_mb(child.pid)
                if value is not None:
                    samples.append(value)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        epoch_ends = {}
        evaluation = None
        for line in child.stdout:
            sys.stdout.write(line)
            if line.startswith("Test loss") and evaluation is None:
                evaluation = len(samples)
            match = re.match(r"Epoch (\d+)/(\d+)", line)
            if match and int(match.group(1)) > 1 and samples:
                epoch_ends[int(match.group(1)) - 1] = (samples[-1], len(samples))
        code = child.wait()
        done.set()
        sampler.join()

    if code != 0 or 2 not in epoch_ends:
        print(f"train exited with {code} or ran fewer than 3 epochs; nothing measured", file=sys.stderr)
        return 1
    epoch2, index = epoch_ends[2]
    last = epoch_ends[max(epoch_ends)][0]
    after = max(samples[index:])
    evaluation = evaluation if evaluation is not None else len(samples)
    training_peak = max(samples[:evaluation])
    final_peak = max(samples[evaluation:], default=0.0)
    print(f"allocator {args.allocator}: peak {max(samples):.0f} MB (training {training_peak:.0f} MB, "
          f"per-class evaluation after 'Test loss' {final_peak:.0f} MB); RSS at epoch ends: epoch 2 {epoch2:.1f} MB, "
          f"epoch {max(epoch_ends)} {last:.1f} MB ({100 * (last / epoch2 - 1):+.2f}%); highest after epoch 2 {after:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
