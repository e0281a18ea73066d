"""Reading and writing speech files, with one-line reasons for every unusable file.

soundfile reads any rate and sample format; stereo is averaged to mono and the signal resampled to the
recipe's rate, so users can hand over whatever their recorder produced.
"""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ...errors import InputFileError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")
SILENCE_PEAK = 1e-4  # below -80 dBFS peak a recording holds nothing to convert


def resample(mono: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """``mono`` at ``rate`` Hz -> at ``sample_rate`` Hz (the one resampler files and arrays both go through)."""
    if rate == sample_rate:
        return mono
    return librosa.resample(mono, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")


def read_audio(path: Path, sample_rate: int, min_seconds: float = 0.0) -> np.ndarray:
    """Mono float64 samples at ``sample_rate``; raises InputFileError naming the file and the problem."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise InputFileError(path, "empty file")
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except InputFileError:
        raise
    except FileNotFoundError:
        raise InputFileError(path, "no such file") from None
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise InputFileError(path, f"not a readable audio file ({str(exc).splitlines()[0]})") from None
    if data.shape[0] == 0:
        raise InputFileError(path, "holds no samples (empty or truncated)")
    if not np.all(np.isfinite(data)):
        raise InputFileError(path, "holds NaN or infinite samples")
    mono = data.mean(axis=1)
    if np.max(np.abs(mono)) < SILENCE_PEAK:
        raise InputFileError(path, "is silent (peak below -80 dBFS)")
    mono = resample(mono, rate, sample_rate)
    seconds = len(mono) / sample_rate
    if seconds < min_seconds:
        raise InputFileError(path, f"is {seconds:.2f} s long, shorter than the {min_seconds:.2f} s the model needs")
    return np.ascontiguousarray(mono, dtype=np.float64)


def write_audio(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV; peaks above full scale are scaled down rather than clipped."""
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > 0.99:
        samples = samples * (0.99 / peak)
    tmp = path.with_name(path.name + ".tmp")
    sf.write(str(tmp), samples.astype(np.float32), sample_rate, subtype="PCM_16", format="WAV")
    tmp.replace(path)
