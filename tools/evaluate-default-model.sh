#!/usr/bin/env bash
# Reproduces every figure of models/agvas-tiny/README.md (the model card). Needs ../shared/data/real beside the
# repository (the real test split; research-only licences, never shipped) and, for the unseen real textures, the
# Debian package python3-skimage (its data files only; no Python runs). Writes everything under out/model-card/.
set -euo pipefail
cd "$(dirname "$0")/.."
agvas() { dotnet run --project src/AgVas.Cli -c Release --no-build -- "$@"; }
dotnet build src/AgVas.Cli -c Release -v q -nologo
out=out/model-card
real=../shared/data/real

# 1. The real test split (measuring only): per source, per group, with counts.
agvas test --data "$real/test.csv" --out "$out/test-real" --overwrite \
  --group industrial=grid,commutator,cookie,metal_plate,tire --group medical=polyp,skin_lesion

# 2. The held-out dev category (otx_hazelnut_toy, never trained on) and the README's samples.
agvas test --data configs/dev-heldout.csv --out "$out/dev-heldout" --overwrite
agvas test --data samples/manifest.csv --out "$out/samples" --overwrite

# 3. A synthetic test set with seeds never used in training (seed 777; training used 0-2, 11-14, 22-27 and 1000-1003), on procedural
#    textures and on three real texture photographs never seen in training (scikit-image's brick, grass, gravel).
textures=/usr/lib/python3/dist-packages/skimage/data
rm -rf "$out/unseen-textures" "$out/synth-test"
for t in brick grass gravel; do mkdir -p "$out/unseen-textures/$t"; cp "$textures/$t.png" "$out/unseen-textures/$t/"; done
agvas synth --normals procedural "$out/unseen-textures" --count 400 --seed 777 --out "$out/synth-test"
agvas test --data "$out/synth-test/manifest.csv" --out "$out/synth-test-eval" --overwrite \
  --group unseen_textures=brick,grass,gravel \
  --group procedural=texture_brushed,texture_cells,texture_dots,texture_grain,texture_grid,texture_marble,texture_noise,texture_stripes,texture_weave
