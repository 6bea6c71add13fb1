#!/usr/bin/env python3
"""Prints the `profile` of one or more bench.json files (`cifar-bn bench --profile`) as markdown tables.

One table per input shape: a row per stage of the fused model (a convolution or Dense with the batch norm after it,
and the pooling after that where the fused kernels take it, count as one stage; the unfused model's layers are added
up to match), the forward and backward medians of
each profiled variant in milliseconds, then zero_grad, the loss, the optimizer, the read-back, the sum of the parts'
means and the plain (unprofiled) step's median. With several files, each cell is the median over the files.

    scripts/bench/profile_table.py bench.json [more.json ...]
"""
import json
import statistics
import sys


def variant_name(profile):
    if not profile["fused_kernels"]:
        return "unfused"
    return f"fused, {profile['fused_kernel_threads']} thread(s)"


def stage_key(name):
    # conv2d_1+batch_normalization_1+max_pooling2d -> conv2d_1
    return name.split("+")[0]


def stage_owners(reference):
    """Each layer's row: the first layer of the reference's stage that holds it, so the unfused model's conv2d_1,
    batch_normalization_1 and max_pooling2d all join the fused conv2d_1+batch_normalization_1+max_pooling2d. A batch
    norm the reference runs alone (an unfused reference) joins the stage before it."""
    owners, previous = {}, None
    for part in reference["parts"]:
        if part["pass"] != "forward" or part["name"] == "loss":
            continue
        layers = part["name"].split("+")
        if len(layers) == 1 and layers[0].startswith("batch_normalization") and previous is not None:
            owners[layers[0]] = previous
            continue
        previous = layers[0]
        for layer in layers:
            owners[layer] = previous
    return owners


def main(paths):
    runs = [json.load(open(path)) for path in paths]
    shapes = []
    for run in runs:
        for profile in run.get("profile") or []:
            if profile["shape"] not in shapes:
                shapes.append(profile["shape"])
    if not shapes:
        sys.exit(f"no profile in {', '.join(paths)}: run cifar-bn bench --profile")
    for shape in shapes:
        variants = {}
        for run in runs:
            for profile in run["profile"]:
                if profile["shape"] == shape:
                    variants.setdefault(variant_name(profile), []).append(profile)
        fused = next((p for name, ps in variants.items() if name != "unfused" for p in ps), None)
        reference = fused or next(iter(variants.values()))[0]
        owners = stage_owners(reference)
        order = []
        for part in reference["parts"]:
            if part["pass"] == "forward" and part["name"] != "loss" and owners[stage_key(part["name"])] == stage_key(part["name"]):
                order.append(part["name"])

        def cells(profile):
            forward, backward, other = {}, {}, {}
            for part in profile["parts"]:
                name = part["name"]
                key = owners.get(stage_key(name), stage_key(name))
                target = forward if part["pass"] == "forward" else backward if part["pass"] == "backward" else other
                if name == "loss":
                    key = "loss"
                target[key] = target.get(key, 0.0) + part["median_ms"]
            total = sum(p["mean_ms"] for p in profile["parts"]) + profile["unattributed_ms"]
            return forward, backward, other, total, profile["step_ms"]["median"]

        names = list(variants)
        summary = {name: [cells(p) for p in ps] for name, ps in variants.items()}

        def median_of(name, index, key):
            values = [c[index].get(key, 0.0) if isinstance(c[index], dict) else c[index] for c in summary[name]]
            return statistics.median(values)

        print(f"\n**{shape}, batch 256** (ms, medians of the profiled steps" + (f", median over {len(runs)} files" if len(runs) > 1 else "") + ")\n")
        header = "| stage | " + " | ".join(f"{n} fwd | {n} bwd" for n in names) + " |"
        print(header)
        print("|---|" + "---|---|" * len(names))
        for label, key in [(n, stage_key(n)) for n in order] + [("loss", "loss")]:
            row = [label if "+" in label or key == "loss" else key]
            for n in names:
                row.append(f"{median_of(n, 0, key):.2f}")
                row.append(f"{median_of(n, 1, key):.2f}")
            print("| " + " | ".join(row) + " |")
        for key in ["zero_grad", "optimizer", "metrics"]:
            row = [key]
            for n in names:
                row += [f"{median_of(n, 2, key):.2f}", ""]
            print("| " + " | ".join(row) + " |")
        row = ["**profiled step (sum of means)**"]
        for n in names:
            row += [f"**{median_of(n, 3, None):.1f}**", ""]
        print("| " + " | ".join(row) + " |")
        row = ["**plain step (median)**"]
        for n in names:
            row += [f"**{median_of(n, 4, None):.1f}**", ""]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
