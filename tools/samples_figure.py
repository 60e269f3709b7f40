"""The model card's figure of the README samples: per image, the image and the overlays of each model, side by side.

usage: /usr/bin/python3 tools/samples_figure.py OUT.jpg SEGMENT_DIR [SEGMENT_DIR ...]
  SEGMENT_DIR: `agvas segment samples/images --model M --out SEGMENT_DIR` of one model (its <name>_overlay.png files)
One row per image of samples/images (sorted by path), columns: the image, then each SEGMENT_DIR's overlay in the given
order; every cell is fitted into 240×240 on white. Needs Debian's python3-pil; not part of CI.
"""
import os, sys
from PIL import Image

out, dirs = sys.argv[1], sys.argv[2:]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'samples', 'images')
images = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
cell, gap = 240, 4
sheet = Image.new('RGB', ((1 + len(dirs)) * (cell + gap) - gap, len(images) * (cell + gap) - gap), 'white')
for r, rel in enumerate(images):
    stem = os.path.splitext(rel)[0]
    cells = [os.path.join(root, rel)] + [os.path.join(d, 'images', stem + '_overlay.png') for d in dirs]
    for c, path in enumerate(cells):
        im = Image.open(path).convert('RGB')
        im.thumbnail((cell, cell))
        sheet.paste(im, (c * (cell + gap) + (cell - im.width) // 2, r * (cell + gap) + (cell - im.height) // 2))
sheet.save(out, quality=85)
print(f'wrote {out}: {len(images)} images × {1 + len(dirs)} columns')
