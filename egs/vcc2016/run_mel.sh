#!/usr/bin/env bash
# Voice Conversion Challenge 2016, mel-spectrogram variant: vocoder on the target speaker, then
# MaskCycleGAN-VC (or CycleGAN-VC3) on log-mels, conversion through the trained vocoder, evaluation.
#
#   bash egs/vcc2016/run_mel.sh DATA_ROOT [--stage N] [--stop_stage N] [--src SM1] [--tgt TF1]
#        [--recipe vc_mask_male2female] [--vocoder_recipe vocoder_female] [--exp exp/vcc2016]
#        [--set KEY=VALUE ...]      (converter recipe)   [--vset KEY=VALUE ...]  (vocoder recipe)
#        [--mset KEY=VALUE ...]     (both: mel settings must agree, e.g. features.sample_rate=16000)
#
# Stages: 0 lists (run.sh stage 0, plus all 30 training files of the target speaker for the vocoder),
#         1 train the vocoder, 2 features + statistics, 3 train the converter,
#         4 convert 200001-200005 through the trained vocoder, 5 evaluate against the parallel target files.
# VCC2016 is 16 kHz, so the mel settings default to 16 kHz / fmax 8 kHz here (the recipes say 22.05 kHz).
set -euo pipefail

data_root=${1:?usage: run_mel.sh DATA_ROOT [--stage N] [--stop_stage N] [--src SPK] [--tgt SPK] [--recipe NAME] [--set K=V]...}
shift
stage=0; stop_stage=5; src=SM1; tgt=TF1; recipe=vc_mask_male2female; vocoder_recipe=vocoder_female
exp_root=exp/vcc2016
overrides=(); voc_overrides=(); mel=(--set features.sample_rate=16000 --set features.fmax=8000)
while [ $# -gt 0 ]; do
  case "$1" in
    --stage) stage=$2; shift 2 ;;
    --stop_stage) stop_stage=$2; shift 2 ;;
    --src) src=$2; shift 2 ;;
    --tgt) tgt=$2; shift 2 ;;
    --recipe) recipe=$2; shift 2 ;;
    --vocoder_recipe) vocoder_recipe=$2; shift 2 ;;
    --exp) exp_root=$2; shift 2 ;;
    --set) overrides+=(--set "$2"); shift 2 ;;
    --vset) voc_overrides+=(--set "$2"); shift 2 ;;
    --mset) mel+=(--set "$2"); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

pair=${src}_to_${tgt}
lists=${exp_root}/${pair}/data
vocoder=${exp_root}/vocoder_${tgt}
exp=${exp_root}/${pair}/${recipe}
set_data=(--set "data.domain_a=${lists}/train_${src}" --set "data.domain_b=${lists}/train_${tgt}")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  bash "$(dirname "$0")/run.sh" "$data_root" --stage 0 --stop_stage 0 --src "$src" --tgt "$tgt" --exp "$exp_root"
  echo "stage 0: vocoder list (all ${tgt} training files)"
  mkdir -p "${lists}/vocoder_${tgt}"
  for id in $(seq 100001 100030); do
    ln -sf "$(realpath "${data_root}/${tgt}/${id}.wav")" "${lists}/vocoder_${tgt}/${id}.wav"
  done
fi

if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "stage 1: training the vocoder on ${tgt}"
  resume=(); [ -f "${vocoder}/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$vocoder_recipe" --out "$vocoder" --set "data.folder=${lists}/vocoder_${tgt}" \
    "${mel[@]}" "${voc_overrides[@]}" "${resume[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "stage 2: log-mel features and per-speaker statistics"
  cycleaudio preprocess "$recipe" --out "$exp" "${set_data[@]}" "${mel[@]}" "${overrides[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "stage 3: training the converter"
  resume=(); [ -f "${exp}/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$recipe" --out "$exp" "${set_data[@]}" "${mel[@]}" --set "features.vocoder=${vocoder}" \
    "${overrides[@]}" "${resume[@]}"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "stage 4: converting ${src} evaluation utterances through the trained vocoder"
  cycleaudio convert --model "$exp" --direction a2b --vocoder "$vocoder" --overwrite \
    "${lists}/eval_${src}" "${exp_root}/${pair}/converted_${recipe}"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  echo "stage 5: evaluation against ${tgt}"
  cycleaudio evaluate "${exp_root}/${pair}/converted_${recipe}" "${lists}/eval_${tgt}" --source "${lists}/eval_${src}" \
    --json "${exp_root}/${pair}/evaluation_${recipe}.json"
fi
