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
from ...files import replaced_atomically

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif")
SILENCE_PEAK = 1e-4  # below -80 dBFS peak a recording holds nothing to convert


def resample(mono: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """``mono`` at ``rate`` Hz -> contiguous float64 at ``sample_rate`` Hz (the one resampler files,
    pieces of long files and arrays all go through)."""
    if rate != sample_rate:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(mono, dtype=np.float64)


def _open_error(path: Path, exc: Exception) -> InputFileError:
    if isinstance(exc, FileNotFoundError):
        return InputFileError(path, "no such file")
    return InputFileError(path, f"not a readable audio file ({str(exc).splitlines()[0]})")


def _check_samples(path: Path, data: np.ndarray) -> None:
    if not np.all(np.isfinite(data)):
        raise InputFileError(path, "holds NaN or infinite samples")


def read_audio(path: Path, sample_rate: int, min_seconds: float = 0.0) -> np.ndarray:
    """Mono float64 samples at ``sample_rate``; raises InputFileError naming the file and the problem."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise InputFileError(path, "empty file")
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except InputFileError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise _open_error(path, exc) from None
    if data.shape[0] == 0:
        raise InputFileError(path, "holds no samples (empty or truncated)")
    _check_samples(path, data)
    mono = data.mean(axis=1)
    if np.max(np.abs(mono)) < SILENCE_PEAK:
        raise InputFileError(path, "is silent (peak below -80 dBFS)")
    mono = resample(mono, rate, sample_rate)
    seconds = len(mono) / sample_rate
    if seconds < min_seconds:
        raise InputFileError(path, f"is {seconds:.2f} s long, shorter than the {min_seconds:.2f} s the model needs")
    return mono


def audio_seconds(path: Path) -> float:
    """Duration from the file header alone (0.0 when the header is unreadable: the read reports why)."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError):
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def scan_levels(path: Path, frame_seconds: float, block_seconds: float = 30.0) -> tuple[np.ndarray, float]:
    """RMS level of every frame of about ``frame_seconds`` of a (long) file, read block by block, and
    the exact frame length in seconds (a whole number of the file's samples).

    Memory stays at one block however long the recording, which is what lets a many-hour file be cut
    at its pauses before any of it is analysed.  Raises InputFileError for the same problems as
    :func:`read_audio`.
    """
    path = Path(path)
    levels, peak = [], 0.0
    try:
        with sf.SoundFile(str(path)) as f:
            hop = max(1, round(frame_seconds * f.samplerate))
            block = hop * max(1, round(block_seconds / frame_seconds))
            for data in f.blocks(blocksize=block, dtype="float64", always_2d=True):
                _check_samples(path, data)
                mono = data.mean(axis=1)
                peak = max(peak, float(np.max(np.abs(mono))))
                frames = -(-len(mono) // hop)
                padded = np.pad(mono, (0, frames * hop - len(mono)))
                levels.append(np.sqrt(np.mean(padded.reshape(frames, hop) ** 2, axis=1)).astype(np.float32))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise _open_error(path, exc) from None
    if not levels:
        raise InputFileError(path, "holds no samples (empty or truncated)")
    if peak < SILENCE_PEAK:
        raise InputFileError(path, "is silent (peak below -80 dBFS)")
    return np.concatenate(levels), hop / f.samplerate


def read_span(path: Path, start: int, stop: int, sample_rate: int) -> np.ndarray:
    """Samples ``start:stop`` (counted at ``sample_rate``) of a file, mono and resampled: one piece of
    a long recording, read without loading the rest."""
    path = Path(path)
    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            first = int(start * rate // sample_rate)
            f.seek(first)
            data = f.read(int(-(-stop * rate // sample_rate)) - first, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise _open_error(path, exc) from None
    _check_samples(path, data)
    mono = resample(data.mean(axis=1), rate, sample_rate)[: stop - start]
    return np.pad(mono, (0, stop - start - len(mono)), mode="edge") if len(mono) else np.zeros(stop - start)


def write_audio(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """16-bit PCM WAV; peaks above full scale are scaled down rather than clipped.

    Written to a temporary file of this process, then renamed into place: two processes writing the
    same file (two trainings filling the built-in voices' cache at once) each rename a whole file of
    their own, where a shared temporary name let one rename away the other's.
    """
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak > 0.99:
        samples = samples * (0.99 / peak)
    with replaced_atomically(path) as tmp:
        sf.write(str(tmp), samples.astype(np.float32), sample_rate, subtype="PCM_16", format="WAV")
