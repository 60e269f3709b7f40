"""Golden values for the Qwen2 / LoRA tests (tests/AgVas.Tests/Modeling/Qwen2GoldenTests.cs).

Run with Debian's torch 1.13:  /usr/bin/python3 tools/golden/language_golden.py
Writes tests/AgVas.Tests/Fixtures/Language/qwen2_golden.json. The formulas below are our own statement of Qwen2's
maths (RMSNorm, rotate-half RoPE, grouped-query attention with q/k/v bias, SwiGLU, tied head, LoRA), evaluated in
float64 on float32 random weights; the C# side loads the same weights by their Hugging Face names.
"""
import json
import math
import os

import torch

torch.manual_seed(1234)
CFG = dict(hidden_size=16, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
           intermediate_size=32, vocab_size=32, rms_norm_eps=1e-6, rope_theta=10000.0,
           tie_word_embeddings=True, max_position_embeddings=128)
LORA = dict(rank=4, alpha=8.0)
D, H, KV = CFG["hidden_size"], CFG["num_attention_heads"], CFG["num_key_value_heads"]
HD, FF, V = D // H, CFG["intermediate_size"], CFG["vocab_size"]
B, T = 2, 5

weights = {}


def rnd(name, *shape, std=0.3):
    t = (torch.randn(*shape) * std).float()
    weights[name] = t
    return t.double()


embed = rnd("model.embed_tokens.weight", V, D)
layers = []
for i in range(CFG["num_hidden_layers"]):
    p = f"model.layers.{i}."
    layers.append(dict(
        ln1=1 + rnd(p + "input_layernorm.weight", D, std=0.1) - 1,
        q_w=rnd(p + "self_attn.q_proj.weight", H * HD, D), q_b=rnd(p + "self_attn.q_proj.bias", H * HD),
        k_w=rnd(p + "self_attn.k_proj.weight", KV * HD, D), k_b=rnd(p + "self_attn.k_proj.bias", KV * HD),
        v_w=rnd(p + "self_attn.v_proj.weight", KV * HD, D), v_b=rnd(p + "self_attn.v_proj.bias", KV * HD),
        o_w=rnd(p + "self_attn.o_proj.weight", D, H * HD),
        ln2=rnd(p + "post_attention_layernorm.weight", D, std=0.1),
        gate=rnd(p + "mlp.gate_proj.weight", FF, D), up=rnd(p + "mlp.up_proj.weight", FF, D),
        down=rnd(p + "mlp.down_proj.weight", D, FF)))
# Norm weights near 1 like trained models.
for i in range(CFG["num_hidden_layers"]):
    for key, name in (("ln1", "input_layernorm"), ("ln2", "post_attention_layernorm")):
        w = (1 + torch.randn(D) * 0.1).float()
        weights[f"model.layers.{i}.{name}.weight"] = w
        layers[i][key] = w.double()
final_norm = (1 + torch.randn(D) * 0.1).float()
weights["model.norm.weight"] = final_norm
final_norm = final_norm.double()


def rms_norm(x, w, eps=CFG["rms_norm_eps"]):
    return w * x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)


def rope_tables(pos):
    # pos [B, T] -> cos, sin [B, T, HD]; frequency i pairs dims i and i + HD/2.
    inv = torch.tensor([1.0 / CFG["rope_theta"] ** (2 * i / HD) for i in range(HD // 2)], dtype=torch.float64)
    ang = pos.double()[..., None] * inv
    ang = torch.cat([ang, ang], -1)
    return ang.cos(), ang.sin()


def rope(x, cos, sin):
    # x [B, heads, T, HD]
    half = HD // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None], sin[:, None]
    return torch.cat([x1 * c[..., :half] - x2 * s[..., :half], x2 * c[..., half:] + x1 * s[..., half:]], -1)


def allowed_mask(mask):
    # mask [B, T] of 1/0 -> bool [B, 1, T, T] (causal and key not padding)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    return causal[None, None] & (mask[:, None, None, :] > 0)


def attention(x, L, pos, mask):
    q = (x @ L["q_w"].T + L["q_b"]).view(B, T, H, HD).transpose(1, 2)
    k = (x @ L["k_w"].T + L["k_b"]).view(B, T, KV, HD).transpose(1, 2)
    v = (x @ L["v_w"].T + L["v_b"]).view(B, T, KV, HD).transpose(1, 2)
    cos, sin = rope_tables(pos)
    q, k = rope(q, cos, sin), rope(k, cos, sin)
    out = torch.zeros(B, H, T, HD, dtype=torch.float64)
    ok = allowed_mask(mask)
    for h in range(H):
        g = h // (H // KV)  # query head h reads key/value head g
        s = q[:, h] @ k[:, g].transpose(-1, -2) / math.sqrt(HD)
        s = s.masked_fill(~ok[:, 0], -1e300)
        out[:, h] = torch.softmax(s, -1) @ v[:, g]
    return out.transpose(1, 2).reshape(B, T, H * HD) @ L["o_w"].T


def mlp(x, L):
    g = x @ L["gate"].T
    return (g * torch.sigmoid(g) * (x @ L["up"].T)) @ L["down"].T


def layer(x, L, pos, mask):
    h = x + attention(rms_norm(x, L["ln1"]), L, pos, mask)
    return h + mlp(rms_norm(h, L["ln2"]), L)


mask = torch.tensor([[1] * T, [0] + [1] * (T - 1)], dtype=torch.int64)      # batch 1 is left-padded by one
pos = (mask.cumsum(-1) - 1).clamp(min=0)                                    # positions skip the padding
ids = torch.randint(0, V, (B, T))
x = (torch.randn(B, T, D)).float()
inputs = {"ids": ids, "mask": mask, "pos": pos, "x": x}

out = {}
xd = x.double()
out["rms_norm"] = rms_norm(xd, layers[0]["ln1"])
cos, sin = rope_tables(pos)
out["rope_cos"], out["rope_sin"] = cos, sin
qx = xd[:, None].expand(B, H, T, D)[..., :HD].contiguous()
inputs["q"] = qx.float()
out["rope_q"] = rope(qx, cos, sin)
out["attention"] = attention(xd, layers[0], pos, mask)
out["layer0"] = layer(xd, layers[0], pos, mask)
h = embed[ids]
for L in layers:
    h = layer(h, L, pos, mask)
hidden = rms_norm(h, final_norm)
out["hidden"] = hidden
out["logits"] = hidden @ embed.T

# LoRA on one linear layer: y = x W^T + b + (alpha / r) x A^T B^T.
R, ALPHA = LORA["rank"], LORA["alpha"]
lw = rnd("lora.weight", 8, D)
lb = rnd("lora.bias", 8)
la = rnd("lora.lora_A.weight", R, D)
lb2 = rnd("lora.lora_B.weight", 8, R)
out["lora_y"] = xd @ lw.T + lb + (ALPHA / R) * (xd @ la.T) @ lb2.T
out["lora_merged_weight"] = lw + (ALPHA / R) * lb2 @ la


def pack(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.double().flatten().tolist()]}


doc = {"config": CFG, "lora": LORA,
       "weights": {k: pack(v) for k, v in weights.items()},
       "inputs": {k: pack(v) for k, v in inputs.items()},
       "outputs": {k: pack(v) for k, v in out.items()}}
path = os.path.join(os.path.dirname(__file__), "../../tests/AgVas.Tests/Fixtures/Language/qwen2_golden.json")
with open(path, "w") as f:
    json.dump(doc, f, separators=(",", ":"))
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
