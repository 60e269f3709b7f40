"""Golden values for AnomalyMask (hysteresis mask rule): scikit-image's apply_hysteresis_threshold rule, with
8-connected regions (skimage labels 4-connected; AnomalyMask and AUPRO use 8), computed with scipy.ndimage.
Run with Debian's python3 (python3-skimage); writes tests/AgVas.Tests/Fixtures/Inference/hysteresis_golden.json."""
import json, os
import numpy as np
from scipy.ndimage import gaussian_filter
from scipy import ndimage as ndi


def hysteresis8(image, low, high):
    labels, count = ndi.label(image > low, structure=np.ones((3, 3)))
    seeded = np.zeros(count + 1, bool)
    seeded[np.unique(labels[image > high])] = True
    seeded[0] = False
    return seeded[labels]


rng = np.random.default_rng(11)
cases = []
for h, w, sigma, low, high in [(17, 23, 1.5, 0.5, 0.8), (32, 20, 2.0, 0.5, 0.9), (9, 9, 0.8, 0.3, 0.6), (24, 24, 1.2, 0.5, 0.5)]:
    m = gaussian_filter(rng.random((h, w)), sigma)
    m = (m - m.min()) / (m.max() - m.min())                   # smooth blobs spanning [0, 1]
    m = m.astype(np.float32)
    mask = hysteresis8(m, low, high)
    cases.append({"h": h, "w": w, "low": low, "high": high, "map": [float(v) for v in m.ravel()],
                  "mask": [int(v) for v in mask.ravel()]})
out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "AgVas.Tests", "Fixtures", "Inference", "hysteresis_golden.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"source": "hysteresis with 8-connected scipy.ndimage.label (skimage's rule)", "cases": cases}, f)
print(out, [sum(c["mask"]) for c in cases], [sum(v > c["low"] for v in c["map"]) for c in cases])
