"""Builds the `tiny` preset's tokenizer and the tokenizer golden values.

Run with Debian's python:  /usr/bin/python3 tools/golden/language_tokenizer.py
Writes src/AgVas/Text/tiny_tokenizer.json (a byte-level BPE in Hugging Face's tokenizer.json layout, the same layout
as Qwen2's: NFC normalizer, Qwen2's split regex, ByteLevel, BPE vocab/merges, added special tokens) trained here on a
small English text, and tests/AgVas.Tests/Fixtures/Language/tokenizer_golden.json: reference encodings of test strings
by an independent encoder (this file's), with the three AG-VAS anchors added as special tokens after the vocabulary.
"""
import collections
import json
import os
import re
import unicodedata

QWEN2_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# Python's `re` has no \p{..}: letters are [^\W\d_], numbers \d, and "not letter/number" adds back the underscore.
PY_REGEX = re.compile(r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|(?:_|[^\r\n\w])?[^\W\d_]+|\d| ?(?:_|[^\s\w])+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
ANCHORS = ["[NOR]", "[ANO]", "[SEG]"]
NUM_MERGES = 250
VOCAB_SIZE = 512   # embedding rows of the tiny LLM: 256 bytes + merges + specials, padded like Hugging Face's vocab

CORPUS = """
The image shows a metal nut on a dark background. The surface of the nut is smooth and evenly coloured.
There is a thin scratch near the top left corner of the object. The scratch is long, narrow and brighter than
its surroundings. A normal bottle has a clean round rim; this bottle has a small crack on the rim at the bottom right.
The carpet texture is regular, but a stain in the center breaks the pattern. The stain is darker and irregular.
Is there any anomaly in the image? Yes, there is a hole in the middle of the fabric. It is tiny and round.
Is there any defect in this object? No, the object looks normal. The leather surface is uniform without cuts.
Please segment the anomaly. Sure, it is the defect. Describe the anomaly, then segment it. The anomaly is a
colour spot on the left side of the pill; it is medium sized and scattered across several regions.
Expectation: a capsule should be intact with a smooth print. Observation: the print is missing on the right half.
Diagnosis: a missing print breaks normality because every good capsule carries it. Summary: a faulty print.
Explanation: the region where the print should appear is empty, so the capsule is abnormal.
The wood grain is straight and continuous; a crack runs across it from the top to the bottom.
The screw thread is damaged at the tip. The tile shows a glue strip and an oil stain near the border.
The transistor is misplaced: its legs are bent and one lead is cut. The zipper has a broken tooth.
Where is the defect? It is in the upper middle region, covering about 3 percent of the image.
What shape is it? It is line-like, elongated and thin. How large is it? It is small, less than 5% of the area.
A large irregular region of contamination covers most of the grid on the lower left.
The hazelnut has a print and a cut on its shell; the cable has a poke insulation and a missing wire.
Everything looks fine: the toothbrush bristles are regular and no anomaly is visible.
"""


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map used by byte-level BPE."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    chars = keep[:]
    n = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(keep, chars)}


B2U = bytes_to_unicode()


def pieces(text):
    return ["".join(B2U[b] for b in m.encode("utf-8")) for m in PY_REGEX.findall(unicodedata.normalize("NFC", text))]


def train():
    words = collections.Counter()
    for line in CORPUS.strip().splitlines():
        words.update(pieces(line + "\n"))
    splits = {w: list(w) for w in words}
    merges = []
    for _ in range(NUM_MERGES):
        pairs = collections.Counter()
        for w, f in words.items():
            s = splits[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += f
        if not pairs:
            break
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]  # most frequent, ties by text
        merges.append(best)
        for w in words:
            s, out, i = splits[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            splits[w] = out
    return merges


def build(merges):
    vocab = {B2U[b]: b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    added = [{"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    assert len(vocab) + len(SPECIALS) <= VOCAB_SIZE
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN2_REGEX}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }


def encode(tok, text, added):
    ranks = {tuple(m.split(" ")): i for i, m in enumerate(tok["model"]["merges"])}
    vocab = tok["model"]["vocab"]
    pattern = re.compile("(" + "|".join(re.escape(a) for a in sorted(added, key=len, reverse=True)) + ")")
    ids = []
    for chunk in pattern.split(text):
        if chunk in added:
            ids.append(added[chunk])
            continue
        for piece in pieces(chunk) if chunk else []:
            parts = list(piece)
            while len(parts) > 1:
                pair = min(zip(parts, parts[1:]), key=lambda p: ranks.get(p, 1 << 30))
                if pair not in ranks:
                    break
                out, i = [], 0
                while i < len(parts):
                    if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                        out.append(parts[i] + parts[i + 1])
                        i += 2
                    else:
                        out.append(parts[i])
                        i += 1
                parts = out
            ids.extend(vocab[p] for p in parts)
    return ids


TESTS = [
    "Sure, it is [NOR] [ANO] [SEG].",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<image>\nIs there any anomaly in the image?<|im_end|>\n<|im_start|>assistant\n",
    "A thin scratch near the top-left corner; 3 holes, 12% of the area!",
    "  spaces   and\n\nnewlines\t tabs  \n",
    "caf\u00e9 na\u0131\u0308ve \u00dcn\u00efc\u00f6d\u00e9 \u65e5\u672c \U0001F600",
    "it's they're we'll I'd IT'S",
    "x[SEG]y[NOR][ANO]  [SEG]\n[SEG] [SEG]",
    "snake_case __init__ a_b",
    "The crack is 1234567 pixels long.",
]

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    tok = build(train())
    out = os.path.join(here, "../../src/AgVas/Text/tiny_tokenizer.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, indent=1)
    added = {t["content"]: t["id"] for t in tok["added_tokens"]}
    for i, a in enumerate(ANCHORS):
        added[a] = VOCAB_SIZE + i
    cases = [{"text": t, "ids": encode(tok, t, added)} for t in TESTS]
    fix = os.path.join(here, "../../tests/AgVas.Tests/Fixtures/Language/tokenizer_golden.json")
    with open(fix, "w", encoding="utf-8") as f:
        json.dump({"vocab_size": VOCAB_SIZE, "anchors": {a: VOCAB_SIZE + i for i, a in enumerate(ANCHORS)}, "cases": cases},
                  f, ensure_ascii=False, indent=1)
    print("vocab", len(tok["model"]["vocab"]), "merges", len(tok["model"]["merges"]), "->", os.path.normpath(out))
