#!/usr/bin/env bash
# Voice Conversion Challenge 2016 recipe: non-parallel training, parallel evaluation.
#
#   bash egs/vcc2016/run.sh DATA_ROOT [--stage N] [--stop_stage N] [--src SM1] [--tgt TF1]
#                                     [--recipe vc_male2female] [--set KEY=VALUE ...]
#                                     [--strengths "0.25 0.5 0.75 1"]
#
# DATA_ROOT holds SF1/ SM1/ TF1/ TM1/ with 100001-100030.wav (training) and 200001-200005.wav (evaluation).
# Stages: 0 prepare lists (source odd ids, target even ids: non-parallel), 1 features + statistics,
#         2 train (a recipe that validates, e.g. vc_cpu_hour, holds out some training files and scores
#         its source ones against the target speaker's recordings of the same ids: validation MCD,
#         best.pt), 3 convert 200001-200005 (and statistics-only: the identity in place of the
#         generator): with best.pt at the edit strength (convert --strength) of the lowest validation
#         MCD when the recipe validates (cycleaudio choose-strength), else with the last checkpoint,
#         4 evaluate against the parallel target files: unconverted, statistics-only and converted rows.
# Extra --set values go to the recipe (e.g. --set train.steps=2000 for a short budget).
set -euo pipefail

stage=0; stop_stage=4; src=SM1; tgt=TF1; recipe=vc_male2female; exp=exp/vcc2016; strengths="0.25 0.5 0.75 1"
overrides=()
. "$(dirname "$0")/../parse_options.sh"
[ ${#positional[@]} -eq 1 ] || { echo "usage: $0 DATA_ROOT [options]; see $0 --help" >&2; exit 2; }
data_root=${positional[0]}

pair=${src}_to_${tgt}
lists=${exp}/${pair}/data
model_dir=${exp}/${pair}/model
# the target speaker also recorded the source's (odd) training ids: references for validation
set_data=(--set "data.domain_a=${lists}/train_${src}" --set "data.domain_b=${lists}/train_${tgt}"
          --set "data.valid_reference=${data_root}/${tgt}" --set "train.valid_criterion=mcd")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "stage 0: training lists (${src}: odd ids, ${tgt}: even ids) and evaluation lists"
  for spk in "$src" "$tgt"; do
    [ -d "${data_root}/${spk}" ] || { echo "error: ${data_root}/${spk}: no such speaker folder" >&2; exit 2; }
  done
  mkdir -p "${lists}/train_${src}" "${lists}/train_${tgt}" "${lists}/eval_${src}" "${lists}/eval_${tgt}"
  for id in $(seq 100001 100030); do
    if [ $((id % 2)) -eq 1 ]; then spk=$src; else spk=$tgt; fi
    ln -sf "$(realpath "${data_root}/${spk}/${id}.wav")" "${lists}/train_${spk}/${id}.wav"
  done
  for id in $(seq 200001 200005); do
    for spk in "$src" "$tgt"; do
      ln -sf "$(realpath "${data_root}/${spk}/${id}.wav")" "${lists}/eval_${spk}/${id}.wav"
    done
  done
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "stage 1: features and per-speaker statistics"
  cycleaudio preprocess "$recipe" --out "$model_dir" "${set_data[@]}" "${overrides[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "stage 2: training"
  resume=(); [ -f "${model_dir}/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$recipe" --out "$model_dir" "${set_data[@]}" "${overrides[@]}" "${resume[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "stage 3: converting ${src} evaluation utterances"
  if [ -f "${model_dir}/checkpoints/best.pt" ]; then
    strength=$(cycleaudio choose-strength --model "$model_dir" --strengths "$strengths" \
      --json "${exp}/${pair}/strength.json")
    echo "converting with best.pt at strength ${strength} (the lowest validation MCD)"
    cycleaudio convert --model "$model_dir" --checkpoint best --strength "$strength" --direction a2b --overwrite \
      "${lists}/eval_${src}" "${exp}/${pair}/converted"
  else
    echo "converting with the last checkpoint (the recipe does not validate: no best.pt)"
    cycleaudio convert --model "$model_dir" --direction a2b --overwrite "${lists}/eval_${src}" "${exp}/${pair}/converted"
  fi
  cycleaudio convert --model "$model_dir" --direction a2b --overwrite --statistics-only "${lists}/eval_${src}" \
    "${exp}/${pair}/statistics_only"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "stage 4: evaluation against ${tgt}"
  cycleaudio evaluate "${exp}/${pair}/converted" "${lists}/eval_${tgt}" --source "${lists}/eval_${src}" \
    --baseline "${exp}/${pair}/statistics_only" --json "${exp}/${pair}/evaluation.json"
fi
