#!/usr/bin/env bash
# Reproduce models/induction-2l as shipped: six seeded stages of scripts/train_induction.ts (each
# resumes the previous one with --init), then the acceptance figures. About 60 min on 2 cores.
#   1. fresh init (std 0.1), 2,000 steps at lr 2e-3, second repeat scored (restricted softmax),
#      + 300 full-vocabulary steps                                → induction circuit forms (~step 900)
#   2. 1,500 steps at lr 1e-3 (data seed 7) + 200 full-vocabulary steps
#   3. 2,000 steps at lr 1e-3 (data seed 8) + 200 full-vocabulary steps
#                                                                 → layer-0 prev-token head sharpens
#   4. 1,000 steps at lr 1e-3 (data seed 9), every position scored + 200 full-vocabulary steps
#   5. 2,000 steps at lr 1e-3 (data seed 10), every position scored + 200 full-vocabulary steps
#                                                                 → uniform, not confident, where
#                                                                   nothing repeats
#   6. 1,500 steps at lr 1e-3 (data seed 11), every position, segments up to 60 tokens
#      + 150 full-vocabulary steps                                → previous-token head 0.68 → 0.77
# The shipped file's metadata says `init: resumed from stage5`, as stage 6 here writes it.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-models/induction-2l}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
t() { npx tsx scripts/train_induction.ts "$@"; }
t --seed 0 --steps 2000 --lr 2e-3 --calibrate-steps 300 --out "$work/stage1"
t --init "$work/stage1" --seed 7 --steps 1500 --lr 1e-3 --warmup 10 --calibrate-steps 200 --out "$work/stage2"
t --init "$work/stage2" --seed 8 --steps 2000 --lr 1e-3 --warmup 10 --calibrate-steps 200 --out "$work/stage3"
t --init "$work/stage3" --seed 9 --steps 1000 --lr 1e-3 --warmup 10 --score all --calibrate-steps 200 --out "$work/stage4"
t --init "$work/stage4" --seed 10 --steps 2000 --lr 1e-3 --warmup 10 --score all --calibrate-steps 200 --out "$work/stage5"
t --init "$work/stage5" --seed 11 --steps 1500 --lr 1e-3 --warmup 10 --score all --seg-max 60 --calibrate-steps 150 --out "$out"
npx tsx scripts/eval_induction.ts --model "$out"
