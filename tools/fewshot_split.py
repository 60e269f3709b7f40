"""The few-shot protocol of #16 as manifests: the first normal row of each category (by image path) is the single
reference (k = 1) and is taken out of the scored set.

usage: /usr/bin/python3 tools/fewshot_split.py SPLIT.csv OUT_DIR
  writes OUT_DIR/<split>-normals.csv (the references) and OUT_DIR/<split>-scored.csv (the rest), with absolute image
  and mask paths so that they can live outside the data folder; then
  agvas predict --data OUT_DIR/<split>-scored.csv --normals OUT_DIR/<split>-normals.csv --context batch --out PRED
  (categories without a normal image, e.g. polyp and skin_lesion, fall back to batch context: the rule for every category).
Standard library only; not part of CI.
"""
import csv, os, sys

split, out = sys.argv[1], sys.argv[2]
base = os.path.dirname(os.path.abspath(split))
name = os.path.splitext(os.path.basename(split))[0]
rows = list(csv.DictReader(open(split, newline='')))
fields = list(rows[0].keys())
refs = {}
for r in sorted(rows, key=lambda r: r['image']):
    if r['label'] == 'normal' and r['category'] not in refs:
        refs[r['category']] = r
def absolute(r):
    r = dict(r)
    r['image'] = os.path.join(base, r['image'])
    if r.get('mask'):
        r['mask'] = ';'.join(os.path.join(base, m) for m in r['mask'].split(';'))
    return r
os.makedirs(out, exist_ok=True)
for suffix, selected in (('normals', list(refs.values())), ('scored', [r for r in rows if r not in refs.values()])):
    with open(os.path.join(out, f'{name}-{suffix}.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(absolute(r) for r in selected)
print(f'{len(refs)} references ({", ".join(sorted(refs))}), {len(rows) - len(refs)} scored images -> {out}')
