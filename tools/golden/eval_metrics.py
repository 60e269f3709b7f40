#!/usr/bin/python3
"""Golden values for AgVas.Evaluation (docs/design.md §9), computed independently with scikit-learn and
scikit-image. Run with Debian's python3 (numpy, sklearn, skimage):

    /usr/bin/python3 tools/golden/eval_metrics.py tests/AgVas.Tests/Fixtures/Evaluation/metrics_golden.json

Writes the inputs (per category: images with size, label, score map, ground truth, optional predicted mask) and the
expected metrics. Scores are float32 values (the C# evaluator works in float32), stored exactly as JSON doubles.
"""
import json
import sys
from bisect import bisect

import numpy as np
from skimage.measure import label
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

FPR_LIMIT = 0.3


def compute_pro(anomaly_maps, ground_truth_maps):
    """PRO curve as the MVTec AD reference (compute_pro in pro_curve_util.py), 8-connected regions, in float64."""
    num_ok_pixels = 0
    num_gt_regions = 0
    fp_changes, pro_changes = [], []
    for gt_map in ground_truth_maps:
        labeled, n_components = label(gt_map, connectivity=2, return_num=True)
        num_gt_regions += n_components
        ok_mask = labeled == 0
        num_ok_pixels += int(ok_mask.sum())
        fp = ok_mask.astype(np.float64)
        pro = np.zeros(gt_map.shape, dtype=np.float64)
        for k in range(n_components):
            region = labeled == (k + 1)
            pro[region] = 1.0 / region.sum()
        fp_changes.append(fp.ravel())
        pro_changes.append(pro.ravel())
    if num_gt_regions == 0 or num_ok_pixels == 0:
        return None
    scores = np.concatenate([m.ravel() for m in anomaly_maps]).astype(np.float64)
    fp_changes = np.concatenate(fp_changes)
    pro_changes = np.concatenate(pro_changes)
    order = np.argsort(scores, kind="stable")[::-1]
    scores = scores[order]
    fprs = np.cumsum(fp_changes[order]) / num_ok_pixels
    pros = np.cumsum(pro_changes[order]) / num_gt_regions
    keep = np.append(np.diff(scores) != 0, True)
    fprs = np.clip(fprs[keep], None, 1.0)
    pros = np.clip(pros[keep], None, 1.0)
    return np.concatenate(([0.0], fprs, [1.0])), np.concatenate(([0.0], pros, [1.0]))


def trapezoid(x, y, x_max):
    """MVTec AD's generic_util.trapezoid: area up to x_max with linear interpolation at x_max."""
    x = np.asarray(x)
    y = np.asarray(y)
    correction = 0.0
    if x_max not in x:
        ins = bisect(x, x_max)
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x = x[mask]
    y = y[mask]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def aupro(maps, gts):
    curve = compute_pro(maps, gts)
    if curve is None:
        return None
    return trapezoid(curve[0], curve[1], FPR_LIMIT) / FPR_LIMIT


def f1_max(labels, scores):
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    precision, recall = precision[:-1], recall[:-1]
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    best = f1.max()
    # thresholds increase: the first index among (numerically) equal maxima is the lowest threshold, as argmax.
    idx = int(np.flatnonzero(f1 >= best - 1e-12)[0])
    return float(best), float(thresholds[idx])


def iou_metrics(images, use_masks, threshold):
    if not use_masks and threshold is None:
        return None, None, None
    per_image, inter_sum, union_sum, normal = [], 0, 0, []
    for im in images:
        pred = im["pred"] if use_masks else im["scores"] >= threshold
        if im["anomalous"]:
            inter = int(np.logical_and(pred, im["gt"]).sum())
            union = int(np.logical_or(pred, im["gt"]).sum())
            per_image.append(1.0 if union == 0 else inter / union)  # LISA: an empty target and empty mask count as 1
            inter_sum += inter
            union_sum += union
        else:
            normal.append(0.0 if pred.any() else 1.0)
    iou_ano = float(np.mean(per_image)) if per_image else None
    iou_cum = (1.0 if union_sum == 0 else inter_sum / union_sum) if per_image else None
    iou_nor = float(np.mean(normal)) if normal else None
    return iou_ano, iou_cum, iou_nor


def category_metrics(images, use_masks):
    scores = np.concatenate([im["scores"].ravel() for im in images])
    labels = np.concatenate([im["gt"].ravel() for im in images]).astype(int)
    has_pos, has_neg = labels.sum() > 0, (1 - labels).sum() > 0
    ap = float(average_precision_score(labels, scores)) if has_pos else None
    auroc = float(roc_auc_score(labels, scores)) if has_pos and has_neg else None
    f1, thr = f1_max(labels, scores) if has_pos else (None, None)
    iou_ano, iou_cum, iou_nor = iou_metrics(images, use_masks, thr)
    image_scores = np.array([im["scores"].max() for im in images], dtype=np.float64)
    image_labels = np.array([int(im["anomalous"]) for im in images])
    img_pos, img_neg = image_labels.sum() > 0, (1 - image_labels).sum() > 0
    return {
        "n_images": len(images),
        "n_anomalous": int(image_labels.sum()),
        "n_normal": int((1 - image_labels).sum()),
        "ap": ap,
        "auroc": auroc,
        "f1_max": f1,
        "f1_threshold": thr,
        "aupro": aupro([im["scores"] for im in images], [im["gt"] for im in images]),
        "iou_ano": iou_ano,
        "iou_ano_cumulative": iou_cum,
        "iou_nor": iou_nor,
        "average": (iou_ano + iou_nor) / 2 if iou_ano is not None and iou_nor is not None else None,
        "image_auroc": float(roc_auc_score(image_labels, image_scores)) if img_pos and img_neg else None,
        "image_ap": float(average_precision_score(image_labels, image_scores)) if img_pos else None,
    }


def blobs(rng, h, w, n):
    """A mask of n random rectangles and single pixels (some touching diagonally)."""
    gt = np.zeros((h, w), dtype=bool)
    for _ in range(n):
        y, x = rng.integers(0, h), rng.integers(0, w)
        gt[y:y + rng.integers(1, 4), x:x + rng.integers(1, 5)] = True
    return gt


def smooth_map(rng, gt, noise, levels=None):
    s = 0.6 * gt + noise * rng.standard_normal(gt.shape)
    s = s + 0.3 * np.roll(gt, 1, axis=1)  # anomalies bleed to the right: imperfect maps
    if levels is not None:
        s = np.round(np.clip(s, 0, 1) * (levels - 1)) / (levels - 1)  # heavy ties
    return s.astype(np.float32)


def make_image(rng, h, w, anomalous, regions, noise, levels=None, with_pred=False):
    gt = blobs(rng, h, w, regions) if anomalous and regions > 0 else np.zeros((h, w), dtype=bool)
    scores = smooth_map(rng, gt, noise, levels)
    im = {"anomalous": anomalous, "gt": gt, "scores": scores}
    if with_pred:
        im["pred"] = scores >= 0.5
    return im


def several_regions_image():
    """Hand-made: two regions touching only diagonally (one 8-component), a separate bar, a border pixel."""
    gt = np.zeros((8, 10), dtype=bool)
    gt[1, 1] = gt[2, 2] = gt[3, 3] = True  # one 8-connected diagonal region
    gt[1:3, 6:9] = True
    gt[7, 9] = True
    gt[5, 0:2] = True
    scores = np.linspace(0, 1, 80, dtype=np.float32).reshape(8, 10)
    scores = np.where(gt, scores * 0.5 + 0.4, scores * 0.6).astype(np.float32)
    return {"anomalous": True, "gt": gt, "scores": scores}


def make_cases():
    rng = np.random.default_rng(20260303)
    cases = []

    cats = {}
    for name in ["bottle", "carpet"]:
        ims = [make_image(rng, 12, 16, True, int(rng.integers(1, 5)), 0.25) for _ in range(4)]
        ims += [make_image(rng, 12, 16, False, 0, 0.25) for _ in range(2)]
        cats[name] = ims
    cases.append(("continuous_oracle", False, cats))

    cats = {"tiles": [make_image(rng, 10, 10, a, 3, 0.3, levels=5, with_pred=True) for a in [True, True, True, False, False]]}
    cases.append(("ties_with_masks", True, cats))

    cats = {"ties_oracle": [make_image(rng, 9, 11, a, 2, 0.3, levels=4) for a in [True, False, True, False]]}
    cases.append(("ties_oracle", False, cats))

    cats = {
        "no_normal": [make_image(rng, 8, 8, True, 2, 0.2) for _ in range(3)],
        "no_anomalous_pixels": [make_image(rng, 8, 8, False, 0, 0.2) for _ in range(3)],
        "several_regions": [several_regions_image(), make_image(rng, 8, 10, False, 0, 0.2)],
    }
    # An anomalous image whose mask is empty (e.g. a logical anomaly without pixel annotation).
    cats["no_normal"].append(make_image(rng, 8, 8, True, 0, 0.2))
    cases.append(("edge_categories", False, cats))

    full = {"anomalous": True, "gt": np.ones((4, 5), dtype=bool), "scores": rng.random((4, 5)).astype(np.float32)}
    full["pred"] = full["scores"] >= 0.5
    empty_target = {"anomalous": True, "gt": np.zeros((4, 5), dtype=bool), "scores": rng.random((4, 5)).astype(np.float32),
                    "pred": np.zeros((4, 5), dtype=bool)}
    other = make_image(rng, 4, 5, True, 2, 0.3, with_pred=True)
    cases.append(("masks_edge_cases", True, {"everything_anomalous": [full], "empty_target": [empty_target, other]}))
    return cases


def to_json_image(im):
    h, w = im["gt"].shape
    out = {
        "anomalous": bool(im["anomalous"]),
        "width": w,
        "height": h,
        "scores": [float(v) for v in im["scores"].ravel()],
        "gt": [int(v) for v in im["gt"].ravel()],
    }
    if "pred" in im:
        out["pred"] = [int(v) for v in im["pred"].ravel()]
    return out


def main(path):
    cases = []
    for name, use_masks, cats in make_cases():
        cases.append({
            "name": name,
            "iou_source": "masks" if use_masks else "oracle",
            "categories": {c: [to_json_image(im) for im in ims] for c, ims in cats.items()},
            "expected": {c: category_metrics(ims, use_masks) for c, ims in cats.items()},
        })
    with open(path, "w") as f:
        json.dump({"generator": "tools/golden/eval_metrics.py", "fpr_limit": FPR_LIMIT, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
