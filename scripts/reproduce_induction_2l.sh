#!/usr/bin/env bash
# Reproduce models/induction-2l as shipped: seven seeded stages of scripts/train_induction.ts (each
# resumes the previous one with --init), then the acceptance figures. About 75 min for stages 1-6
# and 65 min for stage 7 on 2 shared cores.
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
#   7. (issue 17, part 6) fine-tuning on full 128-token rows with the repeated
#      segment (L 3…40) anywhere in the window (--data anywhere), token embedding frozen, auxiliary
#      previous-token loss on L0H2 (--prev-aux):
#      7a 350 steps at lr 2e-3 (aux 0.1, seed 22, batch 8); 7b 550 at 2e-3 (aux 0.3, seed 24);
#      7c 500 at 1e-3 (seed 25); 7d 300 at 5e-4 (seed 26, 4 other positions per row);
#      7e 400 at 5e-4 (seed 30, batch 16, 25% of rows start right after BOS, every 4th step a
#      classic BOS r r batch); 7f 1,200 at 5e-4 (seed 31, batch 16, 15% early / 25% late starts,
#      every 5th step classic)                                  → induction and L0H2 at every position
# The shipped file was trained with 7a…7f written to .scratch-induction/{B,D,E,F,H,I}: its metadata
# says `init: resumed from H` where this script writes `resumed from stage7e`.
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
t --init "$work/stage5" --seed 11 --steps 1500 --lr 1e-3 --warmup 10 --score all --seg-max 60 --calibrate-steps 150 --out "$work/stage6"
a=(--data anywhere --seg-min 3 --seg-max 40 --batch 8 --freeze-embed --prev-head 2 --calibrate-steps 30)
t --init "$work/stage6" "${a[@]}" --seed 22 --steps 350 --lr 2e-3 --warmup 20 --prev-aux 0.1 --out "$work/stage7a"
t --init "$work/stage7a" "${a[@]}" --seed 24 --steps 550 --lr 2e-3 --warmup 10 --prev-aux 0.3 --out "$work/stage7b"
t --init "$work/stage7b" "${a[@]}" --seed 25 --steps 500 --lr 1e-3 --warmup 10 --prev-aux 0.3 --out "$work/stage7c"
t --init "$work/stage7c" --data anywhere --seg-min 3 --seg-max 40 --batch 8 --freeze-embed --prev-head 2 --others 4 --calibrate-steps 20 \
  --seed 26 --steps 300 --lr 5e-4 --warmup 10 --prev-aux 0.3 --out "$work/stage7d"
b=(--data anywhere --seg-min 3 --seg-max 40 --batch 16 --freeze-embed --prev-head 2 --prev-aux 0.3 --lr 5e-4 --warmup 10)
t --init "$work/stage7d" "${b[@]}" --early-frac 0.25 --classic-every 4 --seed 30 --steps 400 --calibrate-steps 30 --out "$work/stage7e"
t --init "$work/stage7e" "${b[@]}" --early-frac 0.15 --late-frac 0.25 --classic-every 5 --seed 31 --steps 1200 --calibrate-steps 40 --out "$out"
npx tsx scripts/eval_induction.ts --model "$out"
