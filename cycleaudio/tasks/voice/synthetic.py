"""Built-in synthetic voices: deterministic speech-like audio of two speakers, no download needed.

A source-filter synthesiser: a glottal pulse train (F0 contour with declination and accents) plus
aspiration noise, shaped frame by frame by formant resonances that glide between phone targets.
The speakers differ the way real speakers do: F0 register and range, vocal-tract length (all formants
scaled), spectral tilt, breathiness and speaking rate.  Training sentences of the two speakers are
different (non-parallel); evaluation sentences share their content (parallel), so converted speech can
be compared with the true target speaker saying the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from .audio import write_audio

SAMPLE_RATE = 16000
HOP = 80  # 5 ms control frames
N_FFT = 512
DATASET_VERSION = "builtin-voices-v1"


@dataclass(frozen=True)
class Speaker:
    name: str
    f0_hz: float  # register
    f0_range_semitones: float  # size of accents and declination
    formant_scale: float  # 1 / relative vocal-tract length
    tilt_db_per_octave: float  # glottal source roll-off
    breathiness: float  # aspiration noise relative to voicing
    rate: float  # speaking rate (>1 is faster)


SPEAKERS = {
    "male": Speaker("male", 112.0, 2.5, 1.00, -12.0, 0.02, 1.00),
    "female": Speaker("female", 215.0, 3.5, 1.18, -9.0, 0.06, 1.08),
}

# Adult male formant targets (F1, F2, F3) in Hz; scaled by the speaker's formant_scale.
VOWELS = {
    "a": (730, 1090, 2440), "i": (270, 2290, 3010), "u": (300, 870, 2240),
    "e": (530, 1840, 2480), "o": (570, 840, 2410), "ae": (660, 1720, 2410),
}
# Consonants: (kind, formants or noise band, relative level)
CONSONANTS = {
    "m": ("nasal", (250, 1100, 2300), 0.35), "n": ("nasal", (250, 1500, 2500), 0.35),
    "l": ("liquid", (360, 1300, 2700), 0.6), "r": ("liquid", (420, 1300, 1600), 0.6),
    "s": ("fricative", (4000, 7500), 0.25), "sh": ("fricative", (2200, 5500), 0.3),
    "f": ("fricative", (1200, 7800), 0.08), "t": ("stop", (3000, 7000), 0.4),
    "k": ("stop", (1500, 4000), 0.4), "p": ("stop", (500, 3000), 0.3),
}
BANDWIDTHS = np.array([70.0, 100.0, 140.0, 180.0])


@dataclass
class Phone:
    symbol: str
    seconds: float


def sentence(seed: int) -> list[Phone]:
    """A reproducible sequence of CV(C) syllables for sentence ``seed`` (same for every speaker)."""
    rng = np.random.default_rng(seed)
    vowels, consonants = list(VOWELS), list(CONSONANTS)
    phones = [Phone("sil", 0.15)]
    for _ in range(int(rng.integers(7, 12))):
        phones.append(Phone(consonants[rng.integers(len(consonants))], float(rng.uniform(0.05, 0.09))))
        phones.append(Phone(vowels[rng.integers(len(vowels))], float(rng.uniform(0.09, 0.17))))
        if rng.random() < 0.3:
            phones.append(Phone(consonants[rng.integers(len(consonants))], float(rng.uniform(0.05, 0.08))))
        if rng.random() < 0.15:
            phones.append(Phone("sil", float(rng.uniform(0.08, 0.15))))
    phones.append(Phone("sil", 0.15))
    return phones


def _control_tracks(phones: list[Phone], speaker: Speaker, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-frame formants, voicing, noise band and level, with gliding transitions between phones."""
    frames_per_phone = [max(2, int(round(p.seconds / speaker.rate * rng.uniform(0.9, 1.1) * SAMPLE_RATE / HOP)))
                        for p in phones]
    total = sum(frames_per_phone)
    formants = np.zeros((total, 4))
    voiced = np.zeros(total)
    level = np.zeros(total)
    noise = np.zeros(total)
    band = np.zeros((total, 2))
    start = 0
    last_formants = np.array([500.0, 1500.0, 2500.0])
    for phone, count in zip(phones, frames_per_phone):
        sl = slice(start, start + count)
        if phone.symbol in VOWELS:
            f, v, lv, nz, bd = VOWELS[phone.symbol], 1.0, 1.0, 0.0, (0, 0)
        elif phone.symbol == "sil":
            f, v, lv, nz, bd = last_formants, 0.0, 0.0, 0.0, (0, 0)
        else:
            kind, spec, lv = CONSONANTS[phone.symbol]
            if kind in ("nasal", "liquid"):
                f, v, nz, bd = spec, 1.0, 0.0, (0, 0)
            else:
                f, v, nz, bd = last_formants, 0.0, 1.0, spec
                if kind == "stop":  # closure then burst
                    level[sl] = 0.0
                    burst = slice(start + count * 2 // 3, start + count)
                    noise[burst], band[burst] = lv, spec
                    formants[sl, :3] = f
                    start += count
                    continue
        formants[sl, :3] = f
        voiced[sl], level[sl], noise[sl] = v, lv, nz * lv
        band[sl] = bd
        last_formants = np.asarray(f, dtype=float)
        start += count
    formants[:, 3] = 3500.0
    formants *= speaker.formant_scale
    smooth = np.hanning(9) / np.hanning(9).sum()  # ~20 ms coarticulation
    for k in range(4):
        formants[:, k] = np.convolve(np.pad(formants[:, k], 4, mode="edge"), smooth, mode="valid")
    level = np.convolve(np.pad(level, 2, mode="edge"), np.ones(5) / 5, mode="valid")
    return {"formants": formants, "voiced": voiced, "level": level, "noise": noise, "band": band}


def _f0_contour(total: int, speaker: Speaker, rng: np.random.Generator) -> np.ndarray:
    """Declination over the utterance plus a few smooth accents, in Hz per frame."""
    t = np.linspace(0.0, 1.0, total)
    semitones = speaker.f0_range_semitones * (0.6 - 1.2 * t)
    for _ in range(int(rng.integers(2, 5))):
        centre, width = rng.uniform(0.1, 0.9), rng.uniform(0.04, 0.1)
        semitones += speaker.f0_range_semitones * rng.uniform(0.5, 1.2) * np.exp(-0.5 * ((t - centre) / width) ** 2)
    semitones += 0.15 * np.cumsum(rng.normal(0, 0.05, total))  # slow jitter
    return speaker.f0_hz * 2.0 ** (semitones / 12.0)


def _resonance_gain(freqs: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Magnitude response of cascaded second-order resonators, (frames, bins)."""
    f = freqs[None, :]
    gain = np.ones((formants.shape[0], freqs.size))
    for k in range(formants.shape[1]):
        fk, bk = formants[:, k:k + 1], BANDWIDTHS[k]
        gain /= np.sqrt((1 - (f / fk) ** 2) ** 2 + (f * bk / fk**2) ** 2)
    return gain


def synthesize_utterance(speaker: Speaker, sentence_id: int, take: int = 0) -> np.ndarray:
    """Audio of ``speaker`` saying sentence ``sentence_id``; ``take`` varies timing and intonation."""
    rng = np.random.default_rng([sentence_id, take, int(speaker.f0_hz)])
    tracks = _control_tracks(sentence(sentence_id), speaker, rng)
    frames = tracks["formants"].shape[0]
    n = frames * HOP
    f0 = np.interp(np.arange(n) / HOP, np.arange(frames), _f0_contour(frames, speaker, rng))
    phase = np.cumsum(f0 / SAMPLE_RATE)
    pulses = np.diff(np.floor(phase), prepend=0.0) * np.sqrt(f0 / 100.0)
    white = rng.normal(0.0, 0.35, n)

    pulse_spec = librosa.stft(pulses, n_fft=N_FFT, hop_length=HOP, center=True)[:, :frames]
    noise_spec = librosa.stft(white, n_fft=N_FFT, hop_length=HOP, center=True)[:, :frames]
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    octaves = np.log2(np.maximum(freqs, 50.0) / 100.0)[:, None]
    tilt = 10 ** (speaker.tilt_db_per_octave * octaves / 20.0)
    tract = _resonance_gain(freqs, tracks["formants"]).T
    tract /= tract.max()
    voicing = tracks["voiced"] * tracks["level"]
    voiced_part = pulse_spec * tilt * tract * voicing
    aspiration = noise_spec * np.sqrt(tilt) * tract * (speaker.breathiness * voicing)
    low, high = tracks["band"][:, 0], tracks["band"][:, 1]
    in_band = (freqs[:, None] >= low[None, :]) & (freqs[:, None] <= high[None, :])
    frication = noise_spec * in_band * tracks["noise"] * 0.3
    audio = librosa.istft(voiced_part + aspiration + frication, hop_length=HOP, n_fft=N_FFT, length=n)
    audio += rng.normal(0.0, 1e-4, n)  # a quiet noise floor, as in any recording
    return 0.5 * audio / np.max(np.abs(audio))


TRAIN_SENTENCES = {"male": range(0, 40), "female": range(100, 140)}  # disjoint: non-parallel training
EVAL_SENTENCES = range(1000, 1008)  # shared: parallel evaluation
VALID_SENTENCES = range(2000, 2004)  # shared: parallel validation, apart from the evaluation sentences


def write_builtin_voices(out: Path) -> Path:
    """Write ``train/<speaker>/*.wav`` (non-parallel), ``eval/<speaker>/*.wav`` and ``valid/<speaker>/*.wav``
    (parallel) under ``out``.

    Validation has its own sentences so that the checkpoint it picks can be scored on the evaluation
    sentences without flattering it.  Files already present are kept, so the call is cheap when the set
    exists.
    """
    for name, speaker in SPEAKERS.items():
        for split, ids, take in (("train", TRAIN_SENTENCES[name], 0), ("eval", EVAL_SENTENCES, 1),
                                 ("valid", VALID_SENTENCES, 1)):
            for sentence_id in ids:
                path = out / split / name / f"s{sentence_id:04d}.wav"
                if not path.exists():
                    write_audio(path, synthesize_utterance(speaker, sentence_id, take), SAMPLE_RATE)
    return out
