"""How the embedded model's mask rule (Agmd.Threshold, Agmd.SeedThreshold) was chosen, on dev data only.

usage: /usr/bin/python3 tools/seed_threshold_sweep.py MANIFEST PREDICTION_DIR [LOW[,LOW...]]
  MANIFEST: a dev manifest (configs/dev-heldout.csv, or a synthetic set made with `agvas synth`), never test.csv
  PREDICTION_DIR: `agvas predict --data MANIFEST --out PREDICTION_DIR` of the model (its .npy maps P)
  LOW: mask thresholds (Agmd.Threshold) to sweep; default 0.5, the paper's
Prints, for each (mask threshold, seed threshold), the mean over categories of IoU_ano (anomalous images) and IoU_nor
(normal images: 1 if the mask is empty) with the mask rule of AnomalyMask (regions of P > low kept if some pixel
exceeds the seed; scikit-image's apply_hysteresis_threshold rule), and the pooled pixel AP per category (maps
subsampled to ~256²).
Needs Debian's python3-skimage / python3-sklearn; not part of CI.
"""
import sys, csv, os, numpy as np
from PIL import Image
from skimage.filters import apply_hysteresis_threshold
man, pred = sys.argv[1], sys.argv[2]
lows = [float(x) for x in sys.argv[3].split(',')] if len(sys.argv) > 3 else [0.5]
base = os.path.dirname(os.path.abspath(man))
rows = list(csv.DictReader(open(man)))
def rel(p):
    parts = os.path.relpath(os.path.join(base, p), os.path.dirname(os.path.abspath(man))).split(os.sep)
    return os.path.join(*[('__up__' if x == '..' else x) for x in parts])
taus = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98]
from sklearn.metrics import average_precision_score
pix = {}
res = {}
for r in rows:
    stem = os.path.splitext(rel(r['image']))[0]
    P = np.load(os.path.join(pred, stem + '.npy'))
    cat = r['category']
    gt = None
    if r['label'] == 'anomalous':
        gt = None
        for part in r['mask'].split(';'):  # several masks of one image: their union
            m = np.array(Image.open(os.path.join(base, part)).convert('L'))
            g1 = m >= 128 if r.get('mask_rule') == 'ge128' else m > 0
            gt = g1 if gt is None else gt | g1
        if gt.shape != P.shape: print('shape', stem, gt.shape, P.shape); continue
    g = gt if gt is not None else np.zeros(P.shape, bool)
    step = max(1, int(np.sqrt(P.size / 65536)))
    pix.setdefault(cat, [[], []]); pix[cat][0].append(P[::step, ::step].ravel()); pix[cat][1].append(g[::step, ::step].ravel())
    for low in lows:
      for t in taus:
        if t < low: continue
        M = apply_hysteresis_threshold(P, low, t) if t > low else P > low
        d = res.setdefault((cat, low, t), [[], []])
        if gt is None: d[1].append(float(M.sum() == 0))
        else:
            inter = (M & gt).sum(); uni = (M | gt).sum()
            d[0].append(inter / uni if uni else 1.0)
cats = sorted({c for c, _, _ in res})
for low in lows:
  for t in taus:
    if (cats[0], low, t) not in res: continue
    ia = [np.mean(res[(c, low, t)][0]) for c in cats if res[(c, low, t)][0]]
    inn = [np.mean(res[(c, low, t)][1]) for c in cats if res[(c, low, t)][1]]
    print(f"low {low:.2f} tau {t:.2f}  IoU_ano {np.mean(ia)*100:5.1f}  IoU_nor {np.mean(inn)*100 if inn else float('nan'):5.1f}  | " +
          "  ".join(f"{c}:{np.mean(res[(c,low,t)][0])*100 if res[(c,low,t)][0] else float('nan'):.0f}/{np.mean(res[(c,low,t)][1])*100 if res[(c,low,t)][1] else float('nan'):.0f}" for c in cats))

aps = {c: average_precision_score(np.concatenate(pix[c][1]), np.concatenate(pix[c][0])) for c in pix if np.concatenate(pix[c][1]).any()}
print('AP (pooled, subsampled) mean %.1f | ' % (100 * np.mean(list(aps.values()))) + '  '.join(f'{c}:{100*v:.1f}' for c, v in aps.items()))
