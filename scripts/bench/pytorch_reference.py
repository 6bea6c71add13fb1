#!/usr/bin/env python3
"""PyTorch peer of `cifar-bn bench`: the notebook model, timed the same way, same JSON fields.

Model: Conv(8,3x3,same)+ReLU, BN, Conv(8)+ReLU, BN, MaxPool2, Conv(16)+ReLU, BN, Conv(16)+ReLU, BN, MaxPool2,
Flatten, Linear(256)+ReLU, BN1d, Linear(10); BN eps 1e-3 momentum 0.01 (Keras 0.99); Xavier-uniform weights,
zero biases; Adam lr 1e-3 eps 1e-7; batch 256; cross-entropy on logits.

Cases: bare training step per input shape (a ready batch, warm-up steps then timed steps, shapes alternating
every repeat) and evaluation throughput (inference mode, loss and accuracy) at batch 1024. The epoch, memory and
data-load cases are the .NET library's own and are written as null.

Usage: python3 pytorch_reference.py [--quick] [--repeats N] [--threads N] [--output peer.json]
"""
import argparse
import json
import os
import platform
import statistics
import time

import torch
from torch import nn

TRAIN_BATCH = 256
EVAL_BATCH = 1024


def make_model(channels, height, width, classes=10):
    def bn2(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    flat = 16 * (height // 4) * (width // 4)
    model = nn.Sequential(
        nn.Conv2d(channels, 8, 3, padding="same"), nn.ReLU(), bn2(8),
        nn.Conv2d(8, 8, 3, padding="same"), nn.ReLU(), bn2(8),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding="same"), nn.ReLU(), bn2(16),
        nn.Conv2d(16, 16, 3, padding="same"), nn.ReLU(), bn2(16),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, 256), nn.ReLU(), nn.BatchNorm1d(256, eps=1e-3, momentum=0.01),
        nn.Linear(256, classes),
    )
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def stats(values):
    values = sorted(values)
    return {"median": statistics.median(values), "min": values[0], "max": values[-1], "count": len(values)}


def batch(channels, height, width, n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, channels, height, width), generator=g, dtype=torch.uint8).float().div_(255)
    y = torch.randint(0, 10, (n,), generator=g)
    return x, y


def train_step(model, opt, loss_fn, x, y):
    opt.zero_grad(set_to_none=True)
    out = model(x)
    loss = loss_fn(out, y)
    loss.backward()
    opt.step()
    with torch.no_grad():
        correct = (out.argmax(1) == y).sum().item()
    return loss.item(), correct


def measure_train_steps(args, warmup, timed):
    shapes = [(3, 32, 32), (1, 28, 28)]
    setups = []
    for c, h, w in shapes:
        torch.manual_seed(args.seed)
        model = make_model(c, h, w)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        setups.append((model, opt, nn.CrossEntropyLoss(), *batch(c, h, w, TRAIN_BATCH, args.seed)))
    times = [[] for _ in shapes]
    for _ in range(args.repeats):
        for s, (model, opt, loss_fn, x, y) in enumerate(setups):
            model.train()
            for i in range(warmup + timed):
                start = time.perf_counter()
                train_step(model, opt, loss_fn, x, y)
                if i >= warmup:
                    times[s].append((time.perf_counter() - start) * 1000)
    return stats(times[0]), stats(times[1])


def measure_eval(args, images):
    torch.manual_seed(args.seed)
    model = make_model(3, 32, 32)
    x, y = batch(3, 32, 32, images, args.seed)
    loss_fn = nn.CrossEntropyLoss()

    def evaluate():
        model.eval()
        loss_sum, correct = 0.0, 0
        with torch.no_grad():
            for start in range(0, images, EVAL_BATCH):
                xb, yb = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
                out = model(xb)
                loss_sum += loss_fn(out, yb).item() * len(yb)
                correct += (out.argmax(1) == yb).sum().item()
        return loss_sum / images, correct / images

    evaluate()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        evaluate()
        rates.append(images / (time.perf_counter() - start))
    return stats(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default="peer.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warmup, timed, eval_images = (1, 2, 1024) if args.quick else (5, 20, 10240)

    cifar, fashion = measure_train_steps(args, warmup, timed)
    rates = measure_eval(args, eval_images)
    result = {
        "implementation": "pytorch",
        "machine": f"{platform.system()} {platform.machine()}, {platform.processor() or 'cpu'}, PyTorch {torch.__version__}",
        "threads": torch.get_num_threads(),
        "allocator": "jemalloc" if "jemalloc" in open("/proc/self/maps").read() else "glibc",
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "spin then sleep (libgomp default)"),
        "quick": args.quick,
        "repeats": args.repeats,
        "batch_size": TRAIN_BATCH,
        "eval_batch_size": EVAL_BATCH,
        "train_step_32x32x3_ms": cifar,
        "train_step_28x28x1_ms": fashion,
        "epoch_seconds": None,
        "epoch_bare_steps_seconds": None,
        "epoch_overhead_ratio": None,
        "batch_assembly_ms": None,
        "bare_step_managed_bytes": None,
        "fit_step_managed_bytes": None,
        "eval_images_per_second": rates,
        "peak_rss_mb": None,
        "peak_rss_reset": None,
        "rss_epoch2_mb": None,
        "rss_last_epoch_mb": None,
        "rss_growth_percent": None,
        "memory_epochs": None,
        "memory_train_images": None,
        "data_load_seconds": None,
    }
    with open(args.output, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"train step 32x32x3: {cifar['median']:.2f} ms (min {cifar['min']:.2f}, max {cifar['max']:.2f})")
    print(f"train step 28x28x1: {fashion['median']:.2f} ms (min {fashion['min']:.2f}, max {fashion['max']:.2f})")
    print(f"evaluate (batch 1024): {rates['median']:.0f} images/s")


if __name__ == "__main__":
    main()
