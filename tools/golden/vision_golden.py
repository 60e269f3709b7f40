#!/usr/bin/python3
"""Golden values for the AG-VAS vision side (tests/AgVas.Tests/Modeling).

Run with Debian's python3 and torch 1.13:  /usr/bin/python3 tools/golden/vision_golden.py
Writes tests/AgVas.Tests/Fixtures/Modeling/<case>.safetensors, each holding
  param/<name>   the random weights, named like the C# module's state_dict,
  input/<name>   the inputs,
  output/<name>  what the reference formulas below compute.
The formulas are written from the papers' definitions (ViT, SigLIP, SAM, MViTv2 relative positions, LISA's losses),
as plain tensor algebra, independently of the C# code. The safetensors file is written by hand: an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "AgVas.Tests", "Fixtures", "Modeling")


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype == torch.bool:
            arr, dtype = t.numpy().astype(np.uint8), "BOOL"
        else:
            arr, dtype = t.to(torch.float32).numpy().astype("<f4"), "F32"
        data = arr.tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Case:
    def __init__(self, name, seed):
        self.name, self.params, self.inputs, self.outputs, self.meta = name, {}, {}, {}, {}
        self.g = torch.Generator().manual_seed(seed)

    def p(self, name, *shape, scale=None, ones=False):
        if ones:
            t = 1.0 + 0.1 * torch.randn(*shape, generator=self.g)
        else:
            fan_in = shape[-1] if len(shape) > 1 else shape[0]
            s = scale if scale is not None else 1.0 / math.sqrt(fan_in)
            t = torch.randn(*shape, generator=self.g) * s
        self.params[name] = t.double()
        return self.params[name]

    def linear(self, name, fin, fout, bias=True):
        w = self.p(name + ".weight", fout, fin)
        b = self.p(name + ".bias", fout, scale=0.1) if bias else None
        return lambda x: F.linear(x, w, b)

    def layer_norm(self, name, dim, eps):
        w = self.p(name + ".weight", dim, ones=True)
        b = self.p(name + ".bias", dim, scale=0.1)
        return lambda x: F.layer_norm(x, (dim,), w, b, eps)

    def layer_norm_2d(self, name, dim, eps=1e-6):
        w = self.p(name + ".weight", dim, ones=True)
        b = self.p(name + ".bias", dim, scale=0.1)

        def f(x):  # normalise over channels of NCHW
            u = x.mean(1, keepdim=True)
            var = ((x - u) ** 2).mean(1, keepdim=True)
            return w[None, :, None, None] * (x - u) / torch.sqrt(var + eps) + b[None, :, None, None]
        return f

    def inp(self, name, t):
        self.inputs[name] = t.double() if t.dtype != torch.bool else t
        return self.inputs[name]

    def save(self):
        tensors = {f"param/{k}": v for k, v in self.params.items()}
        tensors.update({f"input/{k}": v for k, v in self.inputs.items()})
        tensors.update({f"output/{k}": v for k, v in self.outputs.items()})
        write_safetensors(os.path.join(OUT, self.name + ".safetensors"), tensors, self.meta)


def attention(q, k, v, heads, bias=None):
    """Multi-head scaled dot-product attention; q [B,Nq,C], k/v [B,Nk,C]."""
    b, nq, c = q.shape
    nk = k.shape[1]
    hd = c // heads
    qh = q.reshape(b, nq, heads, hd).permute(0, 2, 1, 3)
    kh = k.reshape(b, nk, heads, hd).permute(0, 2, 1, 3)
    vh = v.reshape(b, nk, heads, hd).permute(0, 2, 1, 3)
    logits = qh @ kh.transpose(-1, -2) / math.sqrt(hd)
    if bias is not None:
        logits = logits + bias
    return (torch.softmax(logits, -1) @ vh).permute(0, 2, 1, 3).reshape(b, nq, c)


def gelu_tanh(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


# ---------------------------------------------------------------- semantic encoder (SigLIP) + projector
def semantic_encoder():
    c = Case("semantic_encoder", 1)
    d, mlp, layers, heads, img, patch = 32, 64, 2, 4, 32, 8
    n = (img // patch) ** 2
    c.meta.update(hidden=d, mlp=mlp, layers=layers, heads=heads, image=img, patch=patch)
    wpe = c.p("embeddings.patch_embedding.weight", d, 3, patch, patch, scale=0.1)
    bpe = c.p("embeddings.patch_embedding.bias", d, scale=0.1)
    pos = c.p("embeddings.position_embedding.weight", n, d, scale=0.5)
    blocks = []
    for i in range(layers):
        pre = f"encoder.layers.{i}."
        blocks.append(dict(
            ln1=c.layer_norm(pre + "layer_norm1", d, 1e-6),
            q=c.linear(pre + "self_attn.q_proj", d, d), k=c.linear(pre + "self_attn.k_proj", d, d),
            v=c.linear(pre + "self_attn.v_proj", d, d), o=c.linear(pre + "self_attn.out_proj", d, d),
            ln2=c.layer_norm(pre + "layer_norm2", d, 1e-6),
            fc1=c.linear(pre + "mlp.fc1", d, mlp), fc2=c.linear(pre + "mlp.fc2", mlp, d)))
    x = c.inp("pixel_values", torch.randn(2, 3, img, img, generator=c.g))
    # patch embedding written as an unfold + matmul (the conv's definition)
    patches = x.reshape(2, 3, img // patch, patch, img // patch, patch).permute(0, 2, 4, 1, 3, 5).reshape(2, n, 3 * patch * patch)
    h = patches @ wpe.reshape(d, -1).T + bpe + pos
    for blk in blocks:
        y = blk["ln1"](h)
        h = h + blk["o"](attention(blk["q"](y), blk["k"](y), blk["v"](y), heads))
        h = h + blk["fc2"](gelu_tanh(blk["fc1"](blk["ln2"](h))))
    c.outputs["features"] = h
    c.save()


def projector():
    c = Case("projector", 2)
    l1 = c.linear("linear_1", 32, 48)
    l2 = c.linear("linear_2", 48, 48)
    x = c.inp("x", torch.randn(2, 5, 32, generator=c.g))
    c.outputs["y"] = l2(gelu(l1(x)))
    c.save()


# ---------------------------------------------------------------- pixel encoder (SAM ViT)
def rel_table(table, size):
    """R[i, j] = table[i - j + size - 1] for a square grid whose table has 2*size-1 rows."""
    idx = torch.from_numpy(np.subtract.outer(np.arange(size), np.arange(size)) + size - 1)
    return table[idx]  # [size, size, hd]


def vit_attention(x, qkv, proj, rel_h, rel_w, heads):
    """x [B,H,W,C] → [B,H,W,C], MViTv2 decomposed relative position bias."""
    b, hh, ww, c = x.shape
    hd = c // heads
    t = qkv(x).reshape(b, hh * ww, 3, heads, hd)
    q, k, v = t[:, :, 0], t[:, :, 1], t[:, :, 2]  # [B, HW, heads, hd]
    q, k, v = (z.permute(0, 2, 1, 3) for z in (q, k, v))  # [B, heads, HW, hd]
    logits = q @ k.transpose(-1, -2) / math.sqrt(hd)  # [B, heads, HW, HW]
    rh, rw = rel_table(rel_h, hh), rel_table(rel_w, ww)
    qg = q.reshape(b, heads, hh, ww, hd)
    bias_h = torch.einsum("bnyxc,ykc->bnyxk", qg, rh)  # query row y vs key row k
    bias_w = torch.einsum("bnyxc,xkc->bnyxk", qg, rw)  # query col x vs key col k
    bias = (bias_h[..., :, None] + bias_w[..., None, :]).reshape(b, heads, hh * ww, hh * ww)
    o = torch.softmax(logits + bias, -1) @ v  # [B, heads, HW, hd]
    return proj(o.permute(0, 2, 1, 3).reshape(b, hh, ww, c))


def pixel_encoder():
    c = Case("pixel_encoder", 3)
    d, mlp, layers, heads, img, patch, out, win, glob = 32, 64, 3, 4, 80, 8, 16, 4, [1]
    g = img // patch  # 10: windows of 4 need padding to 12
    c.meta.update(hidden=d, mlp=mlp, layers=layers, heads=heads, image=img, patch=patch, out=out, window=win, globals=glob)
    hd = d // heads
    wpe = c.p("patch_embed.projection.weight", d, 3, patch, patch, scale=0.1)
    bpe = c.p("patch_embed.projection.bias", d, scale=0.1)
    pos = c.p("pos_embed", 1, g, g, d, scale=0.5)
    blocks = []
    for i in range(layers):
        pre = f"layers.{i}."
        side = g if i in glob else win
        blocks.append(dict(
            win=0 if i in glob else win,
            ln1=c.layer_norm(pre + "layer_norm1", d, 1e-6),
            qkv=c.linear(pre + "attn.qkv", d, 3 * d), proj=c.linear(pre + "attn.proj", d, d),
            rel_h=c.p(pre + "attn.rel_pos_h", 2 * side - 1, hd, scale=0.3),
            rel_w=c.p(pre + "attn.rel_pos_w", 2 * side - 1, hd, scale=0.3),
            ln2=c.layer_norm(pre + "layer_norm2", d, 1e-6),
            lin1=c.linear(pre + "mlp.lin1", d, mlp), lin2=c.linear(pre + "mlp.lin2", mlp, d)))
    conv1 = c.p("neck.conv1.weight", out, d, 1, 1, scale=1 / math.sqrt(d))
    ln1 = c.layer_norm_2d("neck.layer_norm1", out)
    conv2 = c.p("neck.conv2.weight", out, out, 3, 3, scale=1 / math.sqrt(out * 9))
    ln2 = c.layer_norm_2d("neck.layer_norm2", out)

    x = c.inp("pixel_values", torch.randn(1, 3, img, img, generator=c.g))
    h = F.conv2d(x, wpe, bpe, stride=patch).permute(0, 2, 3, 1) + pos  # [B, g, g, d]
    for blk in blocks:
        y = blk["ln1"](h)
        ws = blk["win"]
        if ws > 0:
            pad = (ws - g % ws) % ws
            yp = F.pad(y, (0, 0, 0, pad, 0, pad))
            gp = g + pad
            out_p = torch.zeros_like(yp)
            for wy in range(0, gp, ws):  # each window attends within itself
                for wx in range(0, gp, ws):
                    win_ = yp[:, wy:wy + ws, wx:wx + ws]
                    out_p[:, wy:wy + ws, wx:wx + ws] = vit_attention(win_, blk["qkv"], blk["proj"], blk["rel_h"], blk["rel_w"], heads)
            y = out_p[:, :g, :g]
        else:
            y = vit_attention(y, blk["qkv"], blk["proj"], blk["rel_h"], blk["rel_w"], heads)
        h = h + y
        h = h + blk["lin2"](gelu(blk["lin1"](blk["ln2"](h))))
    f = h.permute(0, 3, 1, 2)
    f = ln1(F.conv2d(f, conv1))
    f = ln2(F.conv2d(f, conv2, padding=1))
    c.outputs["features"] = f
    c.save()


# ---------------------------------------------------------------- dense PE, SPAM, Token Refiner
def fourier_pe(gauss, h, w):
    """SAM's random-Fourier PE of an h×w grid at pixel centres normalised to [-1, 1]: [2F, h, w]."""
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) / h
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) / w
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    coords = torch.stack([xx, yy], -1) * 2 - 1  # (x, y) order
    proj = 2 * math.pi * coords @ gauss
    return torch.cat([torch.sin(proj), torch.cos(proj)], -1).permute(2, 0, 1)


def spam():
    c = Case("spam", 4)
    ds, dp, dd, heads, grid = 48, 16, 24, 4, 10
    c.meta.update(semantic=ds, pixel=dp, dim=dd, heads=heads, grid=grid)
    lin_s = c.linear("lin_s", ds, dd)
    lin_p = c.linear("lin_p", dp, dd)
    q = c.linear("cross_attn.q_proj", dd, dd)
    k = c.linear("cross_attn.k_proj", dd, dd)
    v = c.linear("cross_attn.v_proj", dd, dd)
    o = c.linear("cross_attn.out_proj", dd, dd)
    ln = c.layer_norm("layer_norm", dd, 1e-5)
    gauss = c.p("pe_layer.positional_embedding", 2, dp // 2, scale=1.0)
    fs = c.inp("semantic", torch.randn(2, 16, ds, generator=c.g))
    fp = c.inp("pixel", torch.randn(2, dp, grid, grid, generator=c.g))
    tokens = fp.flatten(2).transpose(1, 2)
    pe = fourier_pe(gauss, grid, grid).flatten(1).T
    qs = lin_s(fs)
    attn = o(attention(q(qs), k(lin_p(tokens + pe)), v(lin_p(tokens)), heads))
    c.outputs["aligned"] = ln(qs + attn)
    c.save()


def token_refiner():
    for shared in (True, False):
        c = Case("token_refiner_" + ("shared" if shared else "separate"), 5)
        fcs = [(c.linear(f"mlps.{i}.fc1", 48, 48), c.linear(f"mlps.{i}.fc2", 48, 16)) for i in range(1 if shared else 3)]
        x = c.inp("anchors", torch.randn(2, 3, 48, generator=c.g))
        outs = [fcs[0 if shared else i][1](torch.relu(fcs[0 if shared else i][0](x[:, i]))) for i in range(3)]
        c.outputs["refined"] = torch.stack(outs, 1)
        c.save()


# ---------------------------------------------------------------- two-way transformer and AGMD
def sam_attention(c, name, d, rate, heads):
    q, k, v = (c.linear(f"{name}.{p}_proj", d, d // rate) for p in "qkv")
    o = c.linear(f"{name}.out_proj", d // rate, d)
    return lambda qq, kk, vv: o(attention(q(qq), k(kk), v(vv), heads))


def two_way(c, prefix, d, layers, heads, mlp, rate):
    blocks = []
    for i in range(layers):
        pre = f"{prefix}layers.{i}."
        blocks.append(dict(
            self_attn=sam_attention(c, pre + "self_attn", d, 1, heads), ln1=c.layer_norm(pre + "layer_norm1", d, 1e-6),
            t2i=sam_attention(c, pre + "cross_attn_token_to_image", d, rate, heads), ln2=c.layer_norm(pre + "layer_norm2", d, 1e-6),
            lin1=c.linear(pre + "mlp.lin1", d, mlp), lin2=c.linear(pre + "mlp.lin2", mlp, d),
            ln3=c.layer_norm(pre + "layer_norm3", d, 1e-6), ln4=c.layer_norm(pre + "layer_norm4", d, 1e-6),
            i2t=sam_attention(c, pre + "cross_attn_image_to_token", d, rate, heads)))
    final = sam_attention(c, prefix + "final_attn_token_to_image", d, rate, heads)
    lnf = c.layer_norm(prefix + "layer_norm_final_attn", d, 1e-5)

    def run(image, image_pe, tokens):
        keys = image.flatten(2).transpose(1, 2)
        kpe = image_pe.flatten(2).transpose(1, 2)
        queries = tokens
        for i, b in enumerate(blocks):
            if i == 0:  # the first block's self-attention sees the tokens without their PE
                queries = b["self_attn"](queries, queries, queries)
            else:
                qq = queries + tokens
                queries = queries + b["self_attn"](qq, qq, queries)
            queries = b["ln1"](queries)
            queries = b["ln2"](queries + b["t2i"](queries + tokens, keys + kpe, keys))
            queries = b["ln3"](queries + b["lin2"](torch.relu(b["lin1"](queries))))
            keys = b["ln4"](keys + b["i2t"](keys + kpe, queries + tokens, queries))
        queries = lnf(queries + final(queries + tokens, keys + kpe, keys))
        return queries, keys
    return run


def two_way_transformer():
    c = Case("two_way_transformer", 6)
    d, layers, heads, mlp, rate = 32, 2, 4, 64, 2
    c.meta.update(hidden=d, layers=layers, heads=heads, mlp=mlp, rate=rate)
    run = two_way(c, "", d, layers, heads, mlp, rate)
    image = c.inp("image", torch.randn(2, d, 6, 5, generator=c.g))
    pe = c.inp("image_pe", torch.randn(2, d, 6, 5, generator=c.g))
    tokens = c.inp("tokens", torch.randn(2, 6, d, generator=c.g))
    q, k = run(image, pe, tokens)
    c.outputs["tokens"], c.outputs["image"] = q, k
    c.save()


def agmd():
    c = Case("agmd", 7)
    d, layers, heads, mlp, rate, alpha, thr = 32, 2, 4, 64, 2, 0.5, 0.5
    c.meta.update(hidden=d, layers=layers, heads=heads, mlp=mlp, rate=rate, alpha=alpha, threshold=thr)
    out_tokens = c.p("output_tokens.weight", 3, d, scale=1.0)
    no_mask = c.p("no_mask_embed.weight", 1, d, scale=1.0)
    gauss = c.p("pe_layer.positional_embedding", 2, d // 2, scale=1.0)
    run = two_way(c, "transformer.", d, layers, heads, mlp, rate)
    up1_w = c.p("upscale_conv1.weight", d, d // 4, 2, 2, scale=0.3)
    up1_b = c.p("upscale_conv1.bias", d // 4, scale=0.1)
    up_ln = c.layer_norm_2d("upscale_layer_norm", d // 4)
    up2_w = c.p("upscale_conv2.weight", d // 4, d // 8, 2, 2, scale=0.3)
    up2_b = c.p("upscale_conv2.bias", d // 8, scale=0.1)
    hyper = [(c.linear(f"output_hypernetworks_mlps.{i}.proj_in", d, d), c.linear(f"output_hypernetworks_mlps.{i}.layers.0", d, d),
              c.linear(f"output_hypernetworks_mlps.{i}.proj_out", d, d // 8)) for i in range(3)]
    fp = c.inp("pixel", torch.randn(2, d, 8, 8, generator=c.g))
    anchors = c.inp("anchors", torch.randn(2, 3, d, generator=c.g))
    b, _, h, w = fp.shape
    z0 = torch.cat([out_tokens[None].expand(b, -1, -1), anchors], 1)
    src = fp + no_mask.reshape(1, d, 1, 1)
    pe = fourier_pe(gauss, h, w)[None].expand(b, -1, -1, -1)
    hs, keys = run(src, pe, z0)
    img = keys.transpose(1, 2).reshape(b, d, h, w)
    up = gelu(up_ln(F.conv_transpose2d(img, up1_w, up1_b, stride=2)))
    up = gelu(F.conv_transpose2d(up, up2_w, up2_b, stride=2))
    hyp = torch.stack([m[2](torch.relu(m[1](torch.relu(m[0](hs[:, i]))))) for i, m in enumerate(hyper)], 1)  # [B, 3, d/8]
    logits = torch.einsum("bac,bchw->bahw", hyp, up)
    p_seg = torch.sigmoid(logits[:, 2])
    e = torch.exp(logits[:, :2] - logits[:, :2].max(1, keepdim=True).values)
    rel = e / e.sum(1, keepdim=True)
    p = alpha * p_seg + (1 - alpha) * rel[:, 1]
    c.outputs.update(logits=logits, p_seg=p_seg, p_nor=rel[:, 0], p_ano=rel[:, 1], p=p)
    c.save()


def dense_pe():
    c = Case("position_embedding_random", 8)
    gauss = c.p("positional_embedding", 2, 8, scale=1.0)
    c.outputs["pe"] = fourier_pe(gauss, 5, 7)
    c.save()


# ---------------------------------------------------------------- loss
def loss():
    c = Case("segmentation_loss", 9)
    bce_w, dice_w, scale, eps = 0.5, 2.0, 1000.0, 1e-6
    logits = c.inp("logits", torch.randn(3, 3, 12, 10, generator=c.g) * 3)
    mask = (torch.rand(3, 12, 10, generator=c.g) > 0.6).double()
    mask[2] = 0  # a normal image
    c.inp("mask", mask)
    p_seg = torch.sigmoid(logits[:, 2])
    rel = torch.softmax(logits[:, :2], 1)
    p_nor, p_ano = rel[:, 0], rel[:, 1]

    def bce(p, m):  # on probabilities, per mask mean, averaged over masks
        return (-(m * torch.log(p) + (1 - m) * torch.log(1 - p))).flatten(1).mean(1).mean()

    def dice(p, m):
        p, m = p.flatten(1), m.flatten(1)
        num = 2 * (p / scale * m).sum(1)
        den = (p / scale).sum(1) + (m / scale).sum(1)
        return (1 - (num + eps) / (den + eps)).mean()

    parts = dict(bce_seg=bce(p_seg, mask), bce_nor=bce(p_nor, 1 - mask), bce_ano=bce(p_ano, mask),
                 dice_seg=dice(p_seg, mask), dice_nor=dice(p_nor, 1 - mask), dice_ano=dice(p_ano, mask))
    parts["total"] = bce_w * (parts["bce_seg"] + parts["bce_nor"] + parts["bce_ano"]) + dice_w * (parts["dice_seg"] + parts["dice_nor"] + parts["dice_ano"])
    c.outputs.update(parts)
    c.save()


# ---------------------------------------------------------------- SAM pre/post-processing
def transforms():
    c = Case("sam_transform", 10)
    target = 64
    image = c.inp("image", torch.randint(0, 256, (1, 3, 45, 60), generator=c.g).double())
    scale = target / max(45, 60)
    h, w = int(45 * scale + 0.5), int(60 * scale + 0.5)
    resized = F.interpolate(image.float(), size=(h, w), mode="bilinear", align_corners=False, antialias=True).double()
    mean = torch.tensor([123.675, 116.28, 103.53], dtype=torch.float64)[None, :, None, None]
    std = torch.tensor([58.395, 57.12, 57.375], dtype=torch.float64)[None, :, None, None]
    x = torch.zeros(1, 3, target, target, dtype=torch.float64)
    x[:, :, :h, :w] = (resized - mean) / std
    c.outputs["pre"] = x
    maps = c.inp("maps", torch.randn(1, 3, 16, 16, generator=c.g))
    up = F.interpolate(maps, size=(target, target), mode="bilinear", align_corners=False)[:, :, :h, :w]
    c.outputs["post"] = F.interpolate(up, size=(45, 60), mode="bilinear", align_corners=False)
    big = c.inp("image_siglip", torch.randint(0, 256, (1, 3, 50, 70), generator=c.g).double())
    c.outputs["siglip_pre"] = (F.interpolate(big.float(), size=(32, 32), mode="bicubic", align_corners=False, antialias=True).double() / 255 - 0.5) / 0.5
    c.meta.update(target=target)
    c.save()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_default_dtype(torch.float64)
    for f in (semantic_encoder, projector, pixel_encoder, spam, token_refiner, two_way_transformer, agmd, dense_pe, loss, transforms):
        f()
    print("wrote", sorted(os.listdir(OUT)))
