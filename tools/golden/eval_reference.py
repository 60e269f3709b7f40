#!/usr/bin/python3
"""Reference evaluation of a prediction directory with scikit-learn / scikit-image / PyTorch: the same protocol as
`agvas eval` (docs/design.md §9), computed independently, for the benchmark (bench/AgVas.Bench/EvalBench.cs) and the
shipped example's golden values. Run with Debian's python3:

    /usr/bin/python3 tools/golden/eval_reference.py --manifest data/manifest.csv --pred pred [--out metrics.json]

Manifest columns used: category, label (anomalous/normal), image, mask (may be empty), mask_rule (gt0/ge128,
optional); paths relative to the manifest. Predictions: <pred>/<image path without extension>.npy, optionally
_mask.png beside it (used for IoU when present for every image; otherwise the F1-max threshold, an oracle).
Maps are evaluated in float32 and resized to the image size with F.interpolate(bilinear, align_corners=False).
"""
import argparse
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_metrics import category_metrics  # noqa: E402

METRICS = ["ap", "auroc", "f1_max", "f1_threshold", "aupro", "iou_ano", "iou_ano_cumulative", "iou_nor", "average",
           "image_auroc", "image_ap"]


def load_mask(path, rule, size):
    """Luminance as PIL's convert("L") (the collector's convention): > 0 for gt0, >= 128 for ge128."""
    with Image.open(path) as im:
        lum = np.asarray(im.convert("L"))
    on = lum >= 128 if rule == "ge128" else lum > 0
    if on.shape != (size[1], size[0]):
        raise ValueError(f"{path}: mask size {on.shape} differs from the image {size}")
    return on


def load_map(path, w, h):
    m = np.load(path)
    while m.ndim > 2 and m.shape[0] == 1:
        m = m[0]
    m = m.astype(np.float32)
    if m.shape != (h, w):
        m = F.interpolate(torch.from_numpy(m)[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0].numpy()
    return m


def evaluate(manifest, pred):
    root = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    stems = [os.path.join(pred, os.path.splitext(r["image"])[0]) for r in rows]
    use_masks = all(os.path.exists(s + "_mask.png") for s in stems)
    by_category = {}
    for row, stem in zip(rows, stems):
        image_path = os.path.join(root, row["image"])
        with Image.open(image_path) as im:
            w, h = im.size
        gt = np.zeros((h, w), dtype=bool)
        if row.get("mask"):
            gt |= load_mask(os.path.join(root, row["mask"]), row.get("mask_rule", "gt0"), (w, h))
        item = {"anomalous": row["label"] == "anomalous", "gt": gt, "scores": load_map(stem + ".npy", w, h)}
        if use_masks:
            item["pred"] = load_mask(stem + "_mask.png", "gt0", (w, h))
        by_category.setdefault(row["category"], []).append(item)
    categories = {c: category_metrics(by_category[c], use_masks) for c in sorted(by_category)}
    mean = {}
    for k in METRICS:
        vals = [m[k] for m in categories.values() if m[k] is not None]
        mean[k] = float(np.mean(vals)) if vals and k != "f1_threshold" else None
    if mean["iou_ano"] is not None and mean["iou_nor"] is not None:
        mean["average"] = (mean["iou_ano"] + mean["iou_nor"]) / 2
    else:
        mean["average"] = None
    return {"categories": categories, "mean": mean}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--pred", required=True)
    parser.add_argument("--out")
    args = parser.parse_args()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = evaluate(args.manifest, args.pred)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    print(f"reference evaluation: {seconds:.2f} s wall, {cpu:.2f} s CPU", file=sys.stderr)


if __name__ == "__main__":
    main()
