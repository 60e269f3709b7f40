#!/usr/bin/python3
"""Golden values for AgVas.Evaluation.BilinearResize: PyTorch's F.interpolate(mode="bilinear", align_corners=False)
on float32 maps, up- and down-sampling, square and not. Run with Debian's python3 (torch):

    /usr/bin/python3 tools/golden/eval_resize.py tests/AgVas.Tests/Fixtures/Evaluation/resize_golden.json
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

SIZES = [  # (src_h, src_w, dst_h, dst_w)
    (5, 7, 12, 9),
    (16, 16, 5, 6),
    (4, 4, 4, 8),
    (1, 1, 3, 3),
    (3, 1, 7, 5),
    (8, 6, 8, 6),
    (64, 48, 37, 100),
]


def main(path):
    rng = np.random.default_rng(7)
    cases = []
    for sh, sw, dh, dw in SIZES:
        src = rng.random((sh, sw)).astype(np.float32)
        dst = F.interpolate(torch.from_numpy(src)[None, None], size=(dh, dw), mode="bilinear", align_corners=False)[0, 0].numpy()
        cases.append({"src_h": sh, "src_w": sw, "dst_h": dh, "dst_w": dw,
                      "src": [float(v) for v in src.ravel()], "dst": [float(v) for v in dst.ravel()]})
    with open(path, "w") as f:
        json.dump({"generator": "tools/golden/eval_resize.py", "torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
