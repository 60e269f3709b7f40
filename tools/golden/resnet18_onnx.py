#!/usr/bin/python3
"""Golden values for the ResNet-18 backbone read from ML.NET's ONNX file (tests/AgVas.Tests/Modeling).

Run with Debian's python3 (apt-get install -y python3-onnx python3-torch python3-numpy; onnx 1.12, torch 1.13):
    /usr/bin/python3 tools/golden/resnet18_onnx.py
Reads, from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 (restored into ~/.nuget/packages),
    tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx          (CNTK 2.6 export, opset 8, input Input247 1x3x224x224)
    tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx (RGB -> BGR, minus a 224x224 mean image)
and evaluates both graphs node by node with a small torch interpreter of the ops that occur (Conv, BatchNormalization,
Relu, Add, MaxPool, AveragePool; Split, Concat, Sub), independently of the C# code and of any ONNX runtime.
Writes tests/AgVas.Tests/Fixtures/Modeling/resnet18_onnx.safetensors (F32, written by hand like vision_golden.py):
    input/pixels        [1,3,80,112]  torch.manual_seed(0); randn * 50, already in the network's input space (BGR - mean)
    output/stage1..4    the four stage outputs for it (strides 4, 8, 16, 32)
    input/pixels_odd    [1,3,67,93]   torch.manual_seed(1); randn * 50
    output/odd_stage1..4
    input/rgb           [1,3,224,224] RGB 0..255 image, value (7*x + 3*y + 50*c) % 256 (x column, y row, c = 0 R,1 G,2 B)
    output/preprocessed what ResNetPreprocess.onnx makes of it (BGR order, minus the mean image)
    output/rgb_stage4   [1,512,7,7]   stage 4 of ResNet18.onnx on output/preprocessed, exact ONNX pads
    output/rgb_features [1,512,1,1]   the graph's own output (Pooling395_Output_0) on output/preprocessed
__metadata__ holds the sources' SHA-256, versions, the stage tensors and the torchvision-style name map (JSON).

Padding. The export froze CNTK's auto-padding for 224x224: the stride-2 ops carry asymmetric pads
[top, left, bottom, right] = conv1 7x7 [3,3,2,2], maxpool 3x3 [1,1,0,0], stage-entry 3x3 convs [1,1,0,0]. CNTK's rule
behind them: begin pad = (k-1)/2, as many outputs as ceil(n / stride), end pad whatever that needs. Taken literally the
graph runs only when every stride-2 op sees an even size (H and W multiples of 32): otherwise a stage-entry 3x3 conv gives
floor(n/2) rows while its 1x1 stride-2 shortcut gives ceil(n/2) and the Add fails (80x112 already fails in stage 4,
5x7 -> 2x3 vs 3x4). Where the end pad is never read (even n) the two rules give the same numbers, so pad_mode="auto"
(end pad recomputed by CNTK's rule, which is exactly torchvision's symmetric pad 3 / 1) is used for the arbitrary-size
inputs, and the script checks that on 224x224 "auto" recomputes the stored pads of every node and matches "onnx".
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "AgVas.Tests", "Fixtures", "Modeling")
PKG = os.path.join(os.path.expanduser("~"), ".nuget", "packages", "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0",
                   "tools", "DnnImageModels")
RESNET = os.path.join(PKG, "ResNet18Onnx", "ResNet18.onnx")
PREP = os.path.join(PKG, "ResNetPrepOnnx", "ResNetPreprocess.onnx")
DTYPE = torch.float64  # golden values in double; inputs are exact float32 values


# The one safetensors writer of the golden scripts (same directory).
sys.path.insert(0, HERE)
from vision_golden import write_safetensors  # noqa: E402


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------------
# The interpreter
# ---------------------------------------------------------------------------------------------------------------------

def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def load(path):
    model = onnx.load(path)
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
    return model, inits


def spatial_pads(pads, kernel, strides, dilations, size, mode, log=None, name=None):
    """ONNX pads [x1_begin, x2_begin, x1_end, x2_end] -> (begin, end) per spatial axis, under the chosen rule."""
    n = len(kernel)
    begin, end = list(pads[:n]), list(pads[n:])
    if mode == "onnx":
        return begin, end
    auto_end = []
    for i in range(n):
        k = (kernel[i] - 1) * dilations[i] + 1
        outs = -(-size[i] // strides[i])  # ceil
        auto_end.append(max(0, (outs - 1) * strides[i] + k - size[i] - begin[i]))
    if log is not None:
        log.append((name, end, auto_end))
    return begin, auto_end


def pad_nchw(x, begin, end, value=0.0):
    # F.pad takes the last axis first: (left, right, top, bottom)
    return F.pad(x, (begin[1], end[1], begin[0], end[0]), value=value)


def run(model, inits, feeds, pad_mode="onnx", dtype=DTYPE, pad_log=None, stop=None):
    """Evaluates the nodes in graph order, until the one that makes `stop` if given; returns all named values.
    pad_mode "onnx" | "auto" (see module doc)."""
    env = {k: v.to(dtype) if v.is_floating_point() else v for k, v in inits.items()}
    env.update({k: v.to(dtype) for k, v in feeds.items()})
    for node in model.graph.node:
        a = attrs(node)
        x = [env[i] for i in node.input]
        op = node.op_type
        if op == "Conv":
            assert a.get("auto_pad", b"NOTSET") == b"NOTSET"
            w = x[1]
            k = list(a.get("kernel_shape", w.shape[2:]))
            s, d = list(a.get("strides", [1, 1])), list(a.get("dilations", [1, 1]))
            b, e = spatial_pads(a.get("pads", [0] * 4), k, s, d, x[0].shape[2:], pad_mode, pad_log, node.name)
            y = F.conv2d(pad_nchw(x[0], b, e), w, x[2] if len(x) > 2 else None, stride=s, dilation=d,
                         groups=a.get("group", 1))
        elif op == "BatchNormalization":
            assert a.get("spatial", 1) == 1 and len(node.output) == 1  # inference form, per-channel statistics
            y = F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=False, eps=a.get("epsilon", 1e-5))
        elif op == "Relu":
            y = torch.relu(x[0])
        elif op in ("Add", "Sub"):
            if x[0].shape != x[1].shape:  # opset 8 broadcasts; in these graphs the shapes must agree
                raise ValueError(f"{node.name}: {op} of {tuple(x[0].shape)} and {tuple(x[1].shape)}")
            y = x[0] + x[1] if op == "Add" else x[0] - x[1]
        elif op == "MaxPool":
            assert a.get("auto_pad", b"NOTSET") == b"NOTSET" and a.get("storage_order", 0) == 0
            k, s = list(a["kernel_shape"]), list(a.get("strides", [1, 1]))
            b, e = spatial_pads(a.get("pads", [0] * 4), k, s, [1, 1], x[0].shape[2:], pad_mode, pad_log, node.name)
            # padded cells never win a max (opset 8 MaxPool has no ceil_mode: floor)
            y = F.max_pool2d(pad_nchw(x[0], b, e, value=-math.inf), k, s)
        elif op == "AveragePool":
            assert a.get("pads", [0] * 4) == [0, 0, 0, 0]  # so count_include_pad does not matter
            y = F.avg_pool2d(x[0], list(a["kernel_shape"]), list(a.get("strides", [1, 1])))
        elif op == "Split":
            y = torch.split(x[0], list(a["split"]), dim=a.get("axis", 0))
        elif op == "Concat":
            y = torch.cat(x, dim=a["axis"])
        else:
            raise NotImplementedError(op)
        if isinstance(y, tuple):
            env.update(zip(node.output, y))
        else:
            env[node.output[0]] = y
        if stop in node.output:
            break
    return env


# ---------------------------------------------------------------------------------------------------------------------
# Reading the structure: stage outputs and a torchvision-style name for every initializer
# ---------------------------------------------------------------------------------------------------------------------

def structure(model, inits):
    """Walks the graph as ResNet basic blocks.

    How the stage outputs are identified: a ResNet stage ends with the Relu after the Add of its last basic block; the
    next stage starts with a stride-2 block whose input feeds TWO convs (the 3x3 stride-2 conv1 and the 1x1 stride-2
    downsample), and the last stage's output is what the final AveragePool consumes. The walk below starts at the
    MaxPool output, follows block after block (block input -> conv(s) -> BN -> Relu -> conv -> BN -> Add -> Relu =
    block output) and closes a stage each time the next block has a downsample, or at the AveragePool. It asserts
    that every stage output is Relu(Add(...)) and that the channel counts are 64, 128, 256, 512.
    """
    nodes = list(model.graph.node)
    producer = {o: n for n in nodes for o in n.output}
    consumers = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def only(lst, op):
        found = [n for n in lst if n.op_type == op]
        assert len(found) == 1, (op, [n.name for n in lst])
        return found[0]

    names = {}

    def conv_bn(prefix_conv, prefix_bn, conv):
        names[prefix_conv + ".weight"] = conv.input[1]
        assert len(conv.input) == 2  # no conv bias anywhere
        bn = only(consumers[conv.output[0]], "BatchNormalization")
        for field, i in zip(("weight", "bias", "running_mean", "running_var"), bn.input[1:]):
            names[f"{prefix_bn}.{field}"] = i
        return bn

    conv1 = only(consumers[model.graph.input[0].name], "Conv")
    bn1 = conv_bn("conv1", "bn1", conv1)
    relu = only(consumers[bn1.output[0]], "Relu")
    pool = only(consumers[relu.output[0]], "MaxPool")
    x = pool.output[0]
    stages, blocks, stage, block = [], [], 0, 0
    while True:
        cons = consumers[x]
        if len(cons) == 1 and cons[0].op_type == "AveragePool":
            stages.append(x)
            avg = cons[0]
            break
        convs = [n for n in cons if n.op_type == "Conv"]
        ds = [n for n in convs if attrs(n)["kernel_shape"] == [1, 1]]
        main = [n for n in convs if attrs(n)["kernel_shape"] == [3, 3]]
        assert len(main) == 1 and len(ds) <= 1 and len(cons) == len(convs) + (1 if not ds else 0)
        if ds or stage == 0:  # a new stage
            if stage > 0:
                stages.append(x)
            stage, block = stage + 1, 0
        p = f"layer{stage}.{block}"
        b1 = conv_bn(p + ".conv1", p + ".bn1", main[0])
        r1 = only(consumers[b1.output[0]], "Relu")
        c2 = only(consumers[r1.output[0]], "Conv")
        b2 = conv_bn(p + ".conv2", p + ".bn2", c2)
        add = only(consumers[b2.output[0]], "Add")
        shortcut = [i for i in add.input if i != b2.output[0]][0]
        if ds:
            bd = conv_bn(p + ".downsample.0", p + ".downsample.1", ds[0])
            assert shortcut == bd.output[0]
        else:
            assert shortcut == x
        out = only(consumers[add.output[0]], "Relu")
        blocks.append((p, [main[0].name, c2.name] + ([ds[0].name] if ds else []), add.name, out.output[0]))
        x, block = out.output[0], block + 1
    assert avg is nodes[-1] and len(stages) == 4
    for i, (s, c) in enumerate(zip(stages, (64, 128, 256, 512))):
        r = producer[s]
        assert r.op_type == "Relu" and producer[r.input[0]].op_type == "Add"
        assert inits[names[f"layer{i + 1}.0.conv2.weight"]].shape[0] == c
    assert sorted(names.values()) == sorted(inits), "every initializer is named exactly once"
    return stages, blocks, names, avg.output[0]


# ---------------------------------------------------------------------------------------------------------------------
# An independent second path: the same weights in torch.nn modules with torchvision's ResNet pads
# ---------------------------------------------------------------------------------------------------------------------

class Block(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout, eps=1e-5)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout, eps=1e-5)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                  torch.nn.BatchNorm2d(cout, eps=1e-5))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class Net(torch.nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(64, eps=1e-5)
        cin = 64
        for i, (n, c) in enumerate(zip(layers, (64, 128, 256, 512))):
            blocks = []
            for j in range(n):
                blocks.append(Block(cin, c, 2 if (j == 0 and i > 0) else 1))
                cin = c
            setattr(self, f"layer{i + 1}", torch.nn.Sequential(*blocks))

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        outs = []
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
            outs.append(x)
        return outs


# ---------------------------------------------------------------------------------------------------------------------

def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def main():
    torch.set_grad_enabled(False)
    model, inits = load(RESNET)
    prep, prep_inits = load(PREP)
    stages, blocks, names, final = structure(model, inits)
    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("ResNet18.onnx ops:", ops)
    print("stage outputs:", stages, " final:", final)
    layers = [sum(1 for b in blocks if b[0].startswith(f"layer{i}.")) for i in range(1, 5)]
    print("blocks per stage:", layers)
    for k, v in names.items():
        print(f"  {k:32s} {v:14s} {tuple(inits[v].shape)}")

    # --- sanity on 224x224: shapes against the graph's value_info, "auto" == stored pads, "onnx" == "auto"
    declared = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
                for vi in list(model.graph.value_info) + list(model.graph.output)}
    g = torch.Generator().manual_seed(7)
    x224 = (torch.randn(1, 3, 224, 224, generator=g) * 50).float()
    env_onnx = run(model, inits, {"Input247": x224}, "onnx")
    log = []
    env_auto = run(model, inits, {"Input247": x224}, "auto", pad_log=log)
    bad = [k for k, v in declared.items() if list(env_onnx[k].shape) != v]
    assert not bad, bad
    assert all(e == a for _, e, a in log), [l for l in log if l[1] != l[2]]
    print(f"224x224: {len(declared)} declared shapes match, final {tuple(env_onnx[final].shape)}; auto pads == stored pads"
          f" for all {len(log)} Conv/MaxPool nodes; max |onnx - auto| = {maxdiff(env_onnx[final], env_auto[final]):.3g}")

    # --- independent path: nn modules with torchvision pads and the name map
    net = Net(layers).double().eval()
    sd = net.state_dict()
    assert set(k for k in sd if not k.endswith("num_batches_tracked")) == set(names)
    net.load_state_dict({k: inits[v].double() for k, v in names.items()}, strict=False)

    tensors, meta = {}, {}
    for tag, shape, seed in (("", (1, 3, 80, 112), 0), ("odd_", (1, 3, 67, 93), 1)):
        torch.manual_seed(seed)
        x = (torch.randn(*shape) * 50).float()
        try:
            run(model, inits, {"Input247": x}, "onnx", stop=stages[3])
            literal = "runs"
        except ValueError as e:
            literal = f"fails: {e}"
        env = run(model, inits, {"Input247": x}, "auto", stop=stages[3])
        outs = [env[s] for s in stages]
        mod = net(x.double())
        env32 = run(model, inits, {"Input247": x}, "auto", dtype=torch.float32, stop=stages[3])
        print(f"{list(shape)}: literal ONNX pads {literal}")
        tensors["input/" + ("pixels" if not tag else "pixels_odd")] = x
        for i, o in enumerate(outs):
            tensors[f"output/{tag}stage{i + 1}"] = o
            print(f"  stage{i + 1} {tuple(o.shape)}  |o|max {o.abs().max().item():.4g}  nn-module diff "
                  f"{maxdiff(o, mod[i]):.2g}  float32-interpreter diff {maxdiff(o, env32[stages[i]]):.2g}")
            assert maxdiff(o, mod[i]) < 1e-9
        meta[f"{tag or 'main_'}literal_onnx_pads"] = literal

    # --- preprocessing graph on a deterministic RGB image, then the literal graph on its result
    pnode = [(n.op_type, list(n.input), list(n.output), attrs(n)) for n in prep.graph.node]
    print("ResNetPreprocess.onnx:", pnode)
    mean = prep_inits["MeanImage"].double()
    for c, ch in enumerate("BGR"):
        print(f"  MeanImage[{c}] ({ch}): mean {mean[0, c].mean().item():.6f} (f32 {np.float32(mean[0, c].mean().item())!r})"
              f" min {mean[0, c].min().item():.4f} max {mean[0, c].max().item():.4f}"
              f" distinct {len(torch.unique(prep_inits['MeanImage'][0, c]))}")
    yy, xx = torch.meshgrid(torch.arange(224), torch.arange(224), indexing="ij")
    rgb = torch.stack([(7 * xx + 3 * yy + 50 * c) % 256 for c in range(3)])[None].float()
    penv = run(prep, prep_inits, {"OriginalInput": rgb}, "onnx")
    pre = penv["PreprocessedInput"]
    assert maxdiff(pre, rgb.flip(1).double() - mean) == 0
    renv = run(model, inits, {"Input247": pre.float()}, "onnx")
    tensors["input/rgb"] = rgb
    tensors["output/preprocessed"] = pre
    tensors["output/rgb_stage4"] = renv[stages[3]]
    tensors["output/rgb_features"] = renv[final]
    print(f"rgb: preprocessed {tuple(pre.shape)}, features {tuple(renv[final].shape)} first "
          f"{renv[final].flatten()[:4].tolist()}")

    meta.update({
        "source": "tools/golden/resnet18_onnx.py",
        "resnet18_onnx": "microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels/ResNet18Onnx/ResNet18.onnx",
        "resnet18_onnx_sha256": sha256(RESNET),
        "preprocess_onnx": "microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels/ResNetPrepOnnx/ResNetPreprocess.onnx",
        "preprocess_onnx_sha256": sha256(PREP),
        "onnx_version": onnx.__version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": sys.version.split()[0],
        "stage_tensors": json.dumps(stages),
        "blocks_per_stage": json.dumps(layers),
        "name_map": json.dumps(names),
        "pad_mode": "pixels/pixels_odd: auto (begin pad as stored, end pad so outputs = ceil(n/stride); == torchvision "
                    "pads); rgb: the stored ONNX pads",
        "precision": "computed in float64 from the float32 inputs and the float32 weights, stored as F32",
    })
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "resnet18_onnx.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
