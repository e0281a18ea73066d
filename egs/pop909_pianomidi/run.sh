#!/usr/bin/env bash
# Classical (piano-midi.de) <-> pop (POP909) genre transfer on MIDI, end to end.
#
#   egs/pop909_pianomidi/run.sh [--stage N] [--stop_stage N] [--work DIR] [--recipe NAME] [--mixed none|partial|full] DATA_ROOT
#
# DATA_ROOT holds piano-midi/ and pop909/ (and bach-chorales/ for --mixed full), e.g. ../shared/data/midi.
# Stages:
#   0  prepare: hold out 10% of the songs of each genre (every 10th file in sorted order) for testing
#   1  train the genre classifier on the training songs, test accuracy on the held-out songs
#   2  train the CycleGAN (--recipe: music_classical2pop_cpu, under an hour on a CPU, or
#      music_classical2pop, the paper's size, for a GPU)
#   3  transfer the held-out songs A->B and B->A, then cycle the transfers back
#   4  evaluate: P_A/P_B, S_A->B, S_B->A, S_tot, content and roll measures (table + JSON)
# Extra recipe overrides: CLS_SET="train.steps=500" GAN_SET="train.steps=2000 model.generator.args.n_blocks=4"
set -euo pipefail

stage=0
stop_stage=4
work=exp/pop909_pianomidi
mixed=none
recipe=music_classical2pop_cpu
. "$(dirname "$0")/../parse_options.sh"
data_root=${positional[0]:-}
if [[ -z "${data_root:-}" ]]; then
  echo "usage: $0 [--stage N] [--stop_stage N] [--work DIR] [--recipe NAME] [--mixed none|partial|full] DATA_ROOT" >&2
  exit 2
fi
data_root=$(cd "$data_root" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
data=$work/data
cache=$work/cache
gan=$work/${recipe}_$mixed
overrides() { for kv in $1; do printf -- '--set %s ' "$kv"; done; }

if [[ $stage -le 0 && $stop_stage -ge 0 ]]; then
  echo "stage 0: split songs into train/test (10% held out per genre)"
  for pair in a:piano-midi b:pop909; do
    domain=${pair%%:*}; folder=$data_root/${pair#*:}
    [[ -d $folder ]] || { echo "missing $folder" >&2; exit 1; }
    rm -rf "$data/train/$domain" "$data/test/$domain"
    mkdir -p "$data/train/$domain" "$data/test/$domain"
    i=0
    while IFS= read -r file; do
      name=$(echo "${file#$folder/}" | tr '/' '_')
      if (( i % 10 == 9 )); then split=test; else split=train; fi
      ln -s "$file" "$data/$split/$domain/$name"
      i=$((i + 1))
    done < <(find "$folder" -type f \( -iname '*.mid' -o -iname '*.midi' \) | LC_ALL=C sort)
    echo "  $domain: $(ls "$data/train/$domain" | wc -l) train, $(ls "$data/test/$domain" | wc -l) test songs"
  done
fi

if [[ $stage -le 1 && $stop_stage -ge 1 ]]; then
  echo "stage 1: genre classifier"
  rm -rf "$work/classifier"
  # shellcheck disable=SC2046
  cycleaudio train music_classifier --out "$work/classifier" \
    --set data.a="$data/train/a" --set data.b="$data/train/b" \
    --set data.test_a="$data/test/a" --set data.test_b="$data/test/b" --set data.cache_dir="$cache" \
    $(overrides "${CLS_SET:-}")
fi

if [[ $stage -le 2 && $stop_stage -ge 2 ]]; then
  echo "stage 2: CycleGAN ($recipe, $mixed)"
  extra=()
  if [[ $mixed == full ]]; then extra=(--set data.c="$data_root/bach-chorales"); fi
  # shellcheck disable=SC2046
  cycleaudio train "$recipe" --out "$gan" \
    --set data.a="$data/train/a" --set data.b="$data/train/b" --set data.cache_dir="$cache" \
    --set loss.mixed="$mixed" "${extra[@]}" $(overrides "${GAN_SET:-}")
fi

if [[ $stage -le 3 && $stop_stage -ge 3 ]]; then
  echo "stage 3: transfer the test songs and cycle them back"
  rm -rf "$gan/transfer" "$gan/cycled"
  # a folder job exits 1 when some file failed (listed); the others are written, so go on
  cycleaudio convert --model "$gan" --direction a2b "$data/test/a" "$gan/transfer/a2b" || true
  cycleaudio convert --model "$gan" --direction b2a "$data/test/b" "$gan/transfer/b2a" || true
  cycleaudio convert --model "$gan" --direction b2a "$gan/transfer/a2b" "$gan/cycled/a2b" || true
  cycleaudio convert --model "$gan" --direction a2b "$gan/transfer/b2a" "$gan/cycled/b2a" || true
fi

if [[ $stage -le 4 && $stop_stage -ge 4 ]]; then
  echo "stage 4: evaluate"
  cycleaudio evaluate "$gan/transfer" "$data/test" --cycled "$gan/cycled" \
    --classifier "$work/classifier" --json "$gan/evaluation.json"
fi
