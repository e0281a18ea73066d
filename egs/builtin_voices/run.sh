#!/usr/bin/env bash
# The main job on the built-in synthetic voices: no download, minutes on a laptop CPU.
#
#   bash egs/builtin_voices/run.sh [--stage N] [--stop_stage N] [--recipe vc_builtin_quick] [--set KEY=VALUE ...]
#                                  [--strengths "0.5 0.75 1"]
#
# Stages: 0 write the built-in voices (train: non-parallel; valid and eval: parallel, different sentences),
#         1 train (male A -> female B; validation MCD against the female speaker on the 4 validation
#         sentences every 250 steps in train.log, the best checkpoint kept), 2 choose the edit strength
#         (convert --strength) of the best checkpoint on the same validation sentences (cycleaudio
#         choose-strength), then convert the male evaluation sentences with both (and statistics-only:
#         the identity in place of the generator), 3 evaluate against the female speaker saying the
#         same sentences: the unconverted male speech, the statistics-only and the model's conversions,
#         4 the HTML report of the run and the results (exp/builtin_voices/report/index.html).
set -euo pipefail

stage=0; stop_stage=4; recipe=vc_builtin_quick; exp=exp/builtin_voices; strengths="0.5 0.75 1"
overrides=()
. "$(dirname "$0")/../parse_options.sh"
[ ${#positional[@]} -eq 0 ] || { echo "unexpected argument ${positional[0]}" >&2; exit 2; }
data=$exp/data

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "stage 0: built-in voices"
  cycleaudio builtin-data voice "$data"
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "stage 1: training"
  resume=(); [ -f "${exp}/model/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$recipe" --out "${exp}/model" --set "data.domain_a=${data}/train/male" \
    --set "data.domain_b=${data}/train/female" --set "data.valid_a=${data}/valid/male" \
    --set "data.valid_b=${data}/valid/female" --set "data.valid_reference=${data}/valid/female" \
    "${overrides[@]}" "${resume[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "stage 2: the edit strength on the validation sentences, then converting male -> female"
  strength=$(cycleaudio choose-strength --model "${exp}/model" --strengths "$strengths" --json "${exp}/strength.json")
  echo "converting with strength $strength (the lowest validation MCD)"
  cycleaudio convert --model "${exp}/model" --checkpoint best --direction a2b --overwrite --strength "$strength" \
    "${data}/eval/male" "${exp}/converted"
  cycleaudio convert --model "${exp}/model" --direction a2b --overwrite --statistics-only "${data}/eval/male" \
    "${exp}/statistics_only"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "stage 3: evaluation against the female speaker"
  cycleaudio evaluate "${exp}/converted" "${data}/eval/female" --source "${data}/eval/male" \
    --baseline "${exp}/statistics_only" --json "${exp}/evaluation.json"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "stage 4: report"
  cycleaudio report "${exp}/model" -o "${exp}/report" --converted "${exp}/converted" \
    --baseline "${exp}/statistics_only" --source "${data}/eval/male" --reference "${data}/eval/female" \
    --evaluation "${exp}/evaluation.json"
fi
