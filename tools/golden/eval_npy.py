#!/usr/bin/python3
"""Reference .npy files written by NumPy itself, for AgVas.Data.Npy: every supported dtype, format versions 1.0, 2.0
and 3.0, Fortran order, big-endian, 0-d and 3-d arrays. Run with Debian's python3 (numpy):

    /usr/bin/python3 tools/golden/eval_npy.py tests/AgVas.Tests/Fixtures/Evaluation/npy

Writes <name>.npy and expected.json ({name: {"descr", "shape", "values" (C order, as float64)}}).
"""
import json
import os
import sys

import numpy as np
from numpy.lib import format as npformat


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    base = np.arange(12, dtype=np.float64).reshape(3, 4) * 0.5 - 1.0
    arrays = {
        "f4_v1": (base.astype("<f4"), (1, 0), False),
        "f8_v1": (base.astype("<f8"), (1, 0), False),
        "f4_v2": (base.astype("<f4"), (2, 0), False),
        "f4_v3": (base.astype("<f4"), (3, 0), False),
        "f2_v1": (base.astype("<f2"), (1, 0), False),
        "f4_big_endian": (base.astype(">f4"), (1, 0), False),
        "f8_fortran": (np.asfortranarray(base.astype("<f8")), (1, 0), True),
        "f4_fortran_3d": (np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)), (1, 0), True),
        "u1": ((np.arange(12) * 20).astype("|u1").reshape(3, 4), (1, 0), False),
        "i1": ((np.arange(12) - 6).astype("|i1").reshape(3, 4), (1, 0), False),
        "b1": ((np.arange(12) % 3 == 0).reshape(3, 4), (1, 0), False),
        "i2": ((np.arange(12) - 6).astype("<i2").reshape(3, 4), (1, 0), False),
        "u2": (np.arange(12).astype("<u2").reshape(3, 4), (1, 0), False),
        "i4": ((np.arange(12) * 1000 - 6000).astype("<i4").reshape(3, 4), (1, 0), False),
        "u4": (np.arange(12).astype("<u4").reshape(3, 4), (1, 0), False),
        "i8": ((np.arange(12) - 6).astype("<i8").reshape(3, 4), (1, 0), False),
        "u8": (np.arange(12).astype("<u8").reshape(3, 4), (1, 0), False),
        "i4_big_endian": ((np.arange(12) - 6).astype(">i4").reshape(3, 4), (1, 0), False),
        "scalar_0d": (np.array(3.25, dtype="<f4"), (1, 0), False),
        "vector_1d": (np.arange(5, dtype="<f8"), (1, 0), False),
        "empty": (np.zeros((0, 4), dtype="<f4"), (1, 0), False),
        "map_1x8x6": (np.linspace(0, 1, 48, dtype="<f4").reshape(1, 8, 6), (1, 0), False),
    }
    expected = {}
    for name, (arr, version, fortran) in arrays.items():
        with open(os.path.join(out_dir, name + ".npy"), "wb") as f:
            npformat.write_array(f, arr, version=version)
        back = np.load(os.path.join(out_dir, name + ".npy"))
        assert not fortran or (back.flags.f_contiguous and not back.flags.c_contiguous)
        expected[name] = {"descr": arr.dtype.str, "shape": list(arr.shape), "fortran_order": fortran,
                          "values": [float(v) for v in np.ascontiguousarray(arr).astype(np.float64).ravel()]}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"generator": "tools/golden/eval_npy.py", "numpy": np.__version__, "arrays": expected}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
