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

stage=0; stop_stage=5; src=SM1; tgt=TF1; recipe=vc_mask_male2female; vocoder_recipe=vocoder_female
exp=exp/vcc2016
overrides=(); vset=(); mset=(--set features.sample_rate=16000 --set features.fmax=8000)
. "$(dirname "$0")/../parse_options.sh"
[ ${#positional[@]} -eq 1 ] || { echo "usage: $0 DATA_ROOT [options]; see $0 --help" >&2; exit 2; }
data_root=${positional[0]}

pair=${src}_to_${tgt}
lists=${exp}/${pair}/data
vocoder=${exp}/vocoder_${tgt}
model_dir=${exp}/${pair}/${recipe}
set_data=(--set "data.domain_a=${lists}/train_${src}" --set "data.domain_b=${lists}/train_${tgt}")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  bash "$(dirname "$0")/run.sh" "$data_root" --stage 0 --stop_stage 0 --src "$src" --tgt "$tgt" --exp "$exp"
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
    "${mset[@]}" "${vset[@]}" "${resume[@]}"
fi

if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "stage 2: log-mel features and per-speaker statistics"
  cycleaudio preprocess "$recipe" --out "$model_dir" "${set_data[@]}" "${mset[@]}" "${overrides[@]}"
fi

if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "stage 3: training the converter"
  resume=(); [ -f "${model_dir}/checkpoints/latest.pt" ] && resume=(--resume)
  cycleaudio train "$recipe" --out "$model_dir" "${set_data[@]}" "${mset[@]}" --set "features.vocoder=${vocoder}" \
    "${overrides[@]}" "${resume[@]}"
fi

if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "stage 4: converting ${src} evaluation utterances through the trained vocoder"
  cycleaudio convert --model "$model_dir" --direction a2b --vocoder "$vocoder" --overwrite \
    "${lists}/eval_${src}" "${exp}/${pair}/converted_${recipe}"
fi

if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  echo "stage 5: evaluation against ${tgt}"
  cycleaudio evaluate "${exp}/${pair}/converted_${recipe}" "${lists}/eval_${tgt}" --source "${lists}/eval_${src}" \
    --json "${exp}/${pair}/evaluation_${recipe}.json"
fi
