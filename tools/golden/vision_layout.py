#!/usr/bin/python3
"""Approved real-size parameter layouts of the vision side (tests/AgVas.Tests/Fixtures/Modeling/layout_<preset>.txt).

Written from the public checkpoint layouts (SigLIP-so400m as LLaVA-OneVision ships it, SAM ViT-B/H image encoder and
mask decoder) renamed to the AG-VAS module tree, one `name: [shape]` per line, sorted. The C# test builds the presets on
the meta device and compares. Run: /usr/bin/python3 tools/golden/vision_layout.py
"""
import os

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "AgVas.Tests", "Fixtures", "Modeling")
SIGLIP = dict(d=1152, mlp=4304, layers=26, image=384, patch=14)
SAM = {"b": dict(e=768, depth=12, heads=12, glob=[2, 5, 8, 11]), "h": dict(e=1280, depth=32, heads=16, glob=[7, 15, 23, 31])}


def layout(llm, sam):
    p = []

    def add(name, *shape):
        p.append(f"{name}: [{', '.join(str(s) for s in shape)}]")

    def linear(name, fin, fout):
        add(name + ".weight", fout, fin)
        add(name + ".bias", fout)

    def norm(name, d):
        add(name + ".weight", d)
        add(name + ".bias", d)

    s = SIGLIP
    n = (s["image"] // s["patch"]) ** 2
    add("semantic_encoder.embeddings.patch_embedding.weight", s["d"], 3, s["patch"], s["patch"])
    add("semantic_encoder.embeddings.patch_embedding.bias", s["d"])
    add("semantic_encoder.embeddings.position_embedding.weight", n, s["d"])
    for i in range(s["layers"]):
        pre = f"semantic_encoder.encoder.layers.{i}."
        norm(pre + "layer_norm1", s["d"])
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            linear(pre + "self_attn." + proj, s["d"], s["d"])
        norm(pre + "layer_norm2", s["d"])
        linear(pre + "mlp.fc1", s["d"], s["mlp"])
        linear(pre + "mlp.fc2", s["mlp"], s["d"])
    linear("projector.linear_1", s["d"], llm)
    linear("projector.linear_2", llm, llm)

    v = SAM[sam]
    e, g, out = v["e"], 64, 256
    add("pixel_encoder.patch_embed.projection.weight", e, 3, 16, 16)
    add("pixel_encoder.patch_embed.projection.bias", e)
    add("pixel_encoder.pos_embed", 1, g, g, e)
    for i in range(v["depth"]):
        pre = f"pixel_encoder.layers.{i}."
        side = g if i in v["glob"] else 14
        norm(pre + "layer_norm1", e)
        linear(pre + "attn.qkv", e, 3 * e)
        linear(pre + "attn.proj", e, e)
        add(pre + "attn.rel_pos_h", 2 * side - 1, e // v["heads"])
        add(pre + "attn.rel_pos_w", 2 * side - 1, e // v["heads"])
        norm(pre + "layer_norm2", e)
        linear(pre + "mlp.lin1", e, 4 * e)
        linear(pre + "mlp.lin2", 4 * e, e)
    add("pixel_encoder.neck.conv1.weight", out, e, 1, 1)
    norm("pixel_encoder.neck.layer_norm1", out)
    add("pixel_encoder.neck.conv2.weight", out, out, 3, 3)
    norm("pixel_encoder.neck.layer_norm2", out)

    linear("spam.lin_s", llm, llm)
    linear("spam.lin_p", out, llm)
    for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
        linear("spam.cross_attn." + proj, llm, llm)
    norm("spam.layer_norm", llm)

    linear("token_refiner.mlps.0.fc1", llm, llm)
    linear("token_refiner.mlps.0.fc2", llm, out)

    add("agmd.output_tokens.weight", 3, out)
    add("agmd.no_mask_embed.weight", 1, out)

    def attn(name, inner):
        for proj in ("q_proj", "k_proj", "v_proj"):
            linear(f"{name}.{proj}", out, inner)
        linear(f"{name}.out_proj", inner, out)

    for i in range(2):
        pre = f"agmd.transformer.layers.{i}."
        attn(pre + "self_attn", out)
        norm(pre + "layer_norm1", out)
        attn(pre + "cross_attn_token_to_image", out // 2)
        norm(pre + "layer_norm2", out)
        linear(pre + "mlp.lin1", out, 2048)
        linear(pre + "mlp.lin2", 2048, out)
        norm(pre + "layer_norm3", out)
        norm(pre + "layer_norm4", out)
        attn(pre + "cross_attn_image_to_token", out // 2)
    attn("agmd.transformer.final_attn_token_to_image", out // 2)
    norm("agmd.transformer.layer_norm_final_attn", out)
    add("agmd.upscale_conv1.weight", out, out // 4, 2, 2)
    add("agmd.upscale_conv1.bias", out // 4)
    norm("agmd.upscale_layer_norm", out // 4)
    add("agmd.upscale_conv2.weight", out // 4, out // 8, 2, 2)
    add("agmd.upscale_conv2.bias", out // 8)
    for i in range(3):
        pre = f"agmd.output_hypernetworks_mlps.{i}."
        linear(pre + "proj_in", out, out)
        linear(pre + "layers.0", out, out)
        linear(pre + "proj_out", out, out // 8)
    return sorted(p)


if __name__ == "__main__":
    for preset, llm, sam in (("paper", 3584, "h"), ("ov-0.5b", 896, "b")):
        with open(os.path.join(OUT, f"layout_{preset}.txt"), "w") as f:
            f.write("\n".join(layout(llm, sam)) + "\n")
    print("wrote layouts")
