#!/usr/bin/env bash
# Voice conversion between two folders of your own recordings.
#
#   bash egs/template/run.sh SPEAKER_A_DIR SPEAKER_B_DIR INPUT_DIR [--recipe vc_male2female] [--set KEY=VALUE ...]
#
# SPEAKER_A_DIR, SPEAKER_B_DIR: WAV/FLAC files of each speaker (any rate, mono or stereo, searched
#   recursively; the speakers need not say the same sentences; 5-10 minutes each is a good start).
# INPUT_DIR: recordings of speaker A to convert to speaker B after training (paths are mirrored).
# Stages: 1 features + statistics, 2 train, 3 convert INPUT_DIR -> exp/template/converted.
set -euo pipefail

recipe=vc_male2female; exp=exp/template
overrides=()
. "$(dirname "$0")/../parse_options.sh"
[ ${#positional[@]} -eq 3 ] || { echo "usage: $0 SPEAKER_A_DIR SPEAKER_B_DIR INPUT_DIR [--recipe NAME] [--set K=V]..." >&2; exit 2; }
a=${positional[0]}; b=${positional[1]}; inputs=${positional[2]}
data=(--set "data.domain_a=$a" --set "data.domain_b=$b")

echo "stage 1: features and statistics"
cycleaudio preprocess "$recipe" --out "${exp}/model" "${data[@]}" "${overrides[@]}"
echo "stage 2: training (Ctrl-C writes a checkpoint; run again to resume)"
resume=(); [ -f "${exp}/model/checkpoints/latest.pt" ] && resume=(--resume)
cycleaudio train "$recipe" --out "${exp}/model" "${data[@]}" "${overrides[@]}" "${resume[@]}"
echo "stage 3: converting ${inputs}"
cycleaudio convert --model "${exp}/model" --direction a2b "$inputs" "${exp}/converted"
