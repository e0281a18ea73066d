#!/usr/bin/env bash
# horse2zebra with the reference image CycleGAN recipe, in numbered stages.
#
#   egs/horse2zebra/run.sh DATA_ROOT [--stage N] [--stop_stage N] [--exp DIR] [--recipe R]
#                          [--inception FILE] [--set KEY=VALUE ...]
#
# DATA_ROOT holds trainA/ trainB/ testA/ testB/ (e.g. ../shared/data/images/horse2zebra).
# Stages: 0 domain classifier (trainA vs trainB, accuracy on testA/testB)
#         1 train the CycleGAN (resumes if the experiment folder already has checkpoints)
#         2 convert testA -> B and testB -> A (with grids), then cycle both back
#         3 evaluate both directions: classifier transfer score, and FID/KID with --inception
# --set arguments go to `cycleaudio train`, e.g. a CPU budget run:
#   egs/horse2zebra/run.sh DATA --set features.load_size=143 --set features.crop_size=128 \
#       --set model.generator.args.n_blocks=6 --set train.steps=2000 --set optim.schedule.unit=step \
#       --set optim.schedule.constant=1000 --set optim.schedule.decay=1000
set -euo pipefail

stage=0; stop_stage=3; exp=exp/horse2zebra; recipe=image_horse2zebra; inception=""; overrides=()
. "$(dirname "$0")/../parse_options.sh"
[ ${#positional[@]} -eq 1 ] || { echo "usage: $0 DATA [options]; see $0 --help" >&2; exit 2; }
data=${positional[0]}
for split in trainA trainB testA testB; do
  [ -d "$data/$split" ] || { echo "error: $data/$split: no such folder" >&2; exit 1; }
done
mkdir -p "$exp"
out=$exp/convert

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: domain classifier"
  cycleaudio train image_classifier --out "$exp/classifier" --set data.root="$data"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train"
  resume=()
  [ -f "$exp/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$recipe" --out "$exp" "${resume[@]}" --set data.root="$data" "${overrides[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: convert"
  cycleaudio convert --model "$exp" --direction a2b --overwrite "$data/testA" "$out/fakeB"
  cycleaudio convert --model "$exp" --direction b2a --overwrite "$data/testB" "$out/fakeA"
  cycleaudio convert --model "$exp" --direction b2a --overwrite --no-grid "$out/fakeB" "$out/cycledA"
  cycleaudio convert --model "$exp" --direction a2b --overwrite --no-grid "$out/fakeA" "$out/cycledB"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: evaluate"
  extra=()
  [ -n "$inception" ] && extra=(--inception "$inception")
  classifier=()
  [ -f "$exp/classifier/classifier.pt" ] && classifier=(--classifier "$exp/classifier/classifier.pt")
  cycleaudio evaluate "$out/fakeB" "$data/testB" --task image --source "$data/testA" --cycled "$out/cycledA" \
    "${classifier[@]}" "${extra[@]}" --json "$exp/eval_a2b.json"
  cycleaudio evaluate "$out/fakeA" "$data/testA" --task image --source "$data/testB" --cycled "$out/cycledB" \
    "${classifier[@]}" "${extra[@]}" --json "$exp/eval_b2a.json"
  python - "$exp/eval_a2b.json" "$exp/eval_b2a.json" <<'PY'
import json, sys
scores = [json.load(open(path)).get("strength") for path in sys.argv[1:]]
if None not in scores:
    print(f"S_A->B {scores[0]:.3f}  S_B->A {scores[1]:.3f}  S_tot {(scores[0] + scores[1]) / 2:.3f}")
PY
fi
