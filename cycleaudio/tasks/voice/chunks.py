"""Long recordings in pieces: cut at pauses, converted independently, joined with short cross-fades.

A whole-utterance pass over a long recording needs memory in proportion to its length (the full-size
generator's activations alone are tens of MB per second of audio) and keeps one core busy per file.
So a recording longer than ``max_seconds`` is cut at its quietest moments into pieces of
``max_seconds / 2`` to ``max_seconds``; every piece is read, analysed, converted and synthesised on
its own (on any core) with ``context`` seconds of the neighbouring audio on either side, and the
converted pieces are joined by a raised-cosine cross-fade centred on each cut.  Cuts fall in pauses,
where both neighbours are near silence, and the fade keeps the joined waveform continuous.  Memory
then depends on the piece length and the number of pieces in flight, never on the recording's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .audio import audio_seconds, read_audio, read_span, scan_levels

FRAME_SECONDS = 0.01  # level frames for finding pauses
PAUSE_SECONDS = 0.1  # a cut goes to the quietest stretch of this length
MAX_SECONDS = 15.0  # longest piece converted in one pass
CONTEXT_SECONDS = 0.3  # audio read beyond each cut, so edge effects stay out of the kept part
FADE_SECONDS = 0.1  # cross-fade length at every join (centred on the cut, inside the context)
BUCKET_SECONDS = 0.32  # every span read is a whole number of these (64 frames of 5 ms), see plan_pieces


@dataclass(frozen=True)
class Piece:
    """One piece of a file, in samples at the model's rate: ``start:stop`` is read and converted (the
    piece plus context), and the output between ``cut_before`` and ``cut_after`` comes from it."""

    path: Path
    index: int
    count: int
    start: int
    stop: int
    cut_before: int
    cut_after: int

    @property
    def last(self) -> bool:
        return self.index == self.count - 1


def pause_cuts(levels: np.ndarray, frame: float, total: int, max_samples: int) -> list[int]:
    """Cut points (samples, from 0 to ``total``) with no piece longer than ``max_samples``.

    ``levels`` are RMS levels of consecutive frames ``frame`` samples long.  Each cut is placed at the
    quietest :data:`PAUSE_SECONDS` stretch in the second half of the longest allowed piece, so pieces
    are long (fewer joins, less context overhead) and joins fall in pauses.
    """
    width = max(1, round(PAUSE_SECONDS / FRAME_SECONDS))
    smooth = np.convolve(levels.astype(np.float64), np.ones(width) / width, mode="same")
    cuts = [0]
    while total - cuts[-1] > max_samples:
        lo = min(int((cuts[-1] + max_samples // 2) / frame), len(smooth) - 1)
        hi = max(lo + 1, int((cuts[-1] + max_samples) / frame))
        quietest = lo + int(np.argmin(smooth[lo:hi]))
        cuts.append(min(round((quietest + 0.5) * frame), cuts[-1] + max_samples))
    return cuts + [total]


def plan_pieces(path: Path, cuts: list[int], sample_rate: int, context_seconds: float = CONTEXT_SECONDS,
                bucket_seconds: float = BUCKET_SECONDS) -> list[Piece]:
    """The pieces between consecutive cuts, each widened by the context (clipped to the file).

    Each span read is then lengthened with more context to a whole number of ``bucket_seconds``:
    the convolution library keeps per-input-shape state, and with every piece a different length that
    state grew by about 5 MB per piece; with lengths from a few buckets it stays fixed.
    """
    context, total = round(context_seconds * sample_rate), cuts[-1]
    bucket = max(1, round(bucket_seconds * sample_rate))
    count = len(cuts) - 1
    pieces = []
    for i, (a, b) in enumerate(zip(cuts[:-1], cuts[1:])):
        start, stop = max(0, a - context), min(total, b + context)
        extra = -(stop - start) % bucket
        later = min(extra, total - stop)
        pieces.append(Piece(path, i, count, max(0, start - (extra - later)), stop + later, a, b))
    return pieces


def plan_file(path: Path, sample_rate: int, max_seconds: float = MAX_SECONDS) -> list[Piece]:
    """One whole-file piece for a recording up to ``max_seconds`` long (judged from its header),
    else the pieces between its pauses (the file is scanned block by block, never loaded whole)."""
    seconds = audio_seconds(path)
    if seconds <= max_seconds:
        return [Piece(path, 0, 1, 0, round(seconds * sample_rate), 0, round(seconds * sample_rate))]
    levels, frame_seconds = scan_levels(path, FRAME_SECONDS)
    cuts = pause_cuts(levels, frame_seconds * sample_rate, round(seconds * sample_rate), round(max_seconds * sample_rate))
    return plan_pieces(path, cuts, sample_rate)


def read_piece(piece: Piece, sample_rate: int) -> tuple[np.ndarray, float]:
    """(samples to convert, seconds of output they stand for): the whole file with every check of
    :func:`.audio.read_audio`, or a piece with its context."""
    if piece.count == 1:
        wave = read_audio(piece.path, sample_rate)
        return wave, len(wave) / sample_rate
    return read_span(piece.path, piece.start, piece.stop, sample_rate), (piece.cut_after - piece.cut_before) / sample_rate


def fade_in(length: int) -> np.ndarray:
    """Raised-cosine ramp from 0 to 1 (its mirror image fades out; the two sum to one everywhere)."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)


class JoinedWriter:
    """Writes converted pieces of one file, in order, as one WAV, cross-fading at every cut.

    Samples go to a float temporary file as they come (so only one piece's tail is held), and
    :meth:`close` rewrites it as 16-bit PCM, scaled down if the peak is above full scale (the same
    rule as :func:`.audio.write_audio`), then moves it into place.
    """

    def __init__(self, target: Path, sample_rate: int, fade_seconds: float = FADE_SECONDS) -> None:
        self.target, self.sample_rate = target, sample_rate
        self.half = max(1, round(fade_seconds * sample_rate / 2))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = target.with_name(target.name + ".part")
        self.out = sf.SoundFile(str(self.tmp), "w", sample_rate, 1, subtype="FLOAT", format="WAV")
        self.tail = np.zeros(0)
        self.tail_at = 0
        self.written = 0
        self.peak = 0.0

    def add(self, piece: Piece, wave: np.ndarray) -> None:
        """Append ``wave`` (the converted ``piece.start:piece.stop``), fading from the previous piece."""
        wave = _fit(wave, piece.stop - piece.start)  # the input's length, whatever synthesis rounded to
        if piece.count == 1:
            self._emit(wave)
            return
        if piece.index == 0:
            kept_from = 0
        else:
            half = min(self.half, piece.cut_before - piece.start, len(self.tail) + self.tail_at - piece.cut_before)
            a, b = piece.cut_before - half, piece.cut_before + half
            ramp = fade_in(b - a)
            self._emit(self.tail[a - self.tail_at:b - self.tail_at] * (1 - ramp) + wave[a - piece.start:b - piece.start] * ramp)
            kept_from = b
        if piece.last:
            self._emit(wave[kept_from - piece.start:])
            return
        end = piece.cut_after - min(self.half, piece.stop - piece.cut_after)
        self._emit(wave[kept_from - piece.start:end - piece.start])
        self.tail, self.tail_at = wave[end - piece.start:].copy(), end

    def _emit(self, samples: np.ndarray) -> None:
        if len(samples):
            self.peak = max(self.peak, float(np.max(np.abs(samples))))
            self.out.write(samples.astype(np.float32))
            self.written += len(samples)

    def close(self) -> Path:
        """Finish the file: 16-bit PCM, moved into place atomically."""
        self.out.close()
        scale = 0.99 / self.peak if self.peak > 0.99 else 1.0
        pcm = self.target.with_name(self.target.name + ".tmp")
        with sf.SoundFile(str(self.tmp)) as src, \
                sf.SoundFile(str(pcm), "w", self.sample_rate, 1, subtype="PCM_16", format="WAV") as dst:
            for block in src.blocks(blocksize=1 << 18, dtype="float32"):
                dst.write(block * scale)
        self.tmp.unlink()
        pcm.replace(self.target)
        return self.target

    def discard(self) -> None:
        """Drop a file whose conversion failed part-way: nothing is left at the target."""
        self.out.close()
        self.tmp.unlink(missing_ok=True)


def _fit(wave: np.ndarray, length: int) -> np.ndarray:
    """Synthesis returns whole frames: trim to the span, or repeat the last sample if a frame short."""
    wave = np.asarray(wave, dtype=np.float64)[:length]
    if len(wave) == length:
        return wave
    return np.pad(wave, (0, length - len(wave)), mode="edge" if len(wave) else "constant")
