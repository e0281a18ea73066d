"""Objective scores of converted images: domain-classifier transfer score, and FID/KID on request.

The transfer score is the music task's strength metric (Brunner et al. 2018) on images: a small
classifier of real source vs. real target images gives P_src, and
S = 1/2 [P_src(x) - P_src(G(x)) + P_src(F(G(x))) - P_src(G(x))] (``engine.classifier.transfer_strength``),
high when the output leaves the source domain and the cycle comes back.  With ``--classifier`` a saved
classifier is used (its domain A/B labels decide the direction from the source or reference images);
without one, a classifier is trained here (at the images' size, at most 128 px) on half of ``--source``
and ``REFERENCE``, and every score is computed on the other half (converted and cycled images are
matched to held-out sources by file name), so the classifier never judges images it was trained on.

The checkerboard numbers (``artifacts.py``) are the converted images' shares of energy on the lattice
lines of period 2 and 4 px (one and two x2 upsampling stages) over those of their sources (paired by
file name, compared at the converted size): near 1 is clean, well above 1 a visible lattice.  The real
reference images' shares at the same size are given beside them, since fine target texture (stripes)
raises the converted share legitimately: an artifact also stands out above the real targets.

FID and KID (``fid.py``) compare converted with reference images and, as a baseline, the unconverted
source with the reference; they need ``--inception`` weights, nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from ...engine.classifier import DomainClassifier, transfer_strength
from ...errors import CycleAudioError
from .artifacts import PERIODS, checkerboard_ratio, mean_lattice_share, resized_like
from .classify import DEFAULT_SIZE, as_batch, load_image_classifier, train_image_classifier
from .dataset import load_folder
from .fid import InceptionFeatures, frechet_distance, kernel_inception_distance

ON_THE_FLY_STEPS = 600


class _Images:
    """Images of one folder with their names relative to it (the key that pairs source/converted/cycled)."""

    def __init__(self, folder: Path) -> None:
        self.images, paths = load_folder(folder, None)
        base = folder if folder.is_dir() else folder.parent
        self.keys = [str(p.relative_to(base).with_suffix("")) for p in paths]

    def __len__(self) -> int:
        return len(self.images)

    def by_key(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.keys, self.images))

    def subset(self, keys: set[str] | None) -> list[torch.Tensor]:
        """Images whose key is in ``keys`` (all of them if none match or ``keys`` is None)."""
        if keys is None:
            return self.images
        chosen = [img for img, key in zip(self.images, self.keys) if key in keys]
        return chosen or self.images

    def halves(self) -> tuple[list[torch.Tensor], list[torch.Tensor], set[str]]:
        """(training half, held-out half, held-out keys): alternate items in sorted name order."""
        if len(self.images) < 4:
            raise CycleAudioError("training a classifier here needs at least 4 images per domain; pass --classifier")
        held = set(self.keys[1::2])
        return self.images[0::2], self.images[1::2], held


def _mean(values: torch.Tensor) -> float:
    return float(values.mean())


@dataclass
class _Judge:
    """The classifier, its image size and description, and the images it may score: held-out source
    keys (None: all images) and the real source/reference images."""

    classifier: DomainClassifier
    size: int
    info: dict[str, Any]
    held: set[str] | None
    source: list[torch.Tensor]
    reference: list[torch.Tensor]

    def p_a(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.classifier.prob_a(as_batch(images, self.size))


def _judge(options: Any, source: _Images | None, reference: _Images) -> _Judge:
    if options.classifier:
        classifier, size = load_image_classifier(options.classifier)
        info = {"path": str(options.classifier), "trained_here": False, "accuracy": classifier.accuracy}
        return _Judge(classifier, size, info, None, source.images if source else [], reference.images)
    if source is None:
        raise CycleAudioError("the transfer score needs --source (real source images) or --classifier")
    train_s, held_s, held_keys = source.halves()
    train_r, held_r, _ = reference.halves()
    size = min(DEFAULT_SIZE, *(min(image.shape[-2:]) for image in train_s + train_r))  # never upscale
    classifier = train_image_classifier(train_s, train_r, held_s, held_r, size=size, steps=ON_THE_FLY_STEPS,
                                        progress=False)
    info = {"trained_here": True, "accuracy": classifier.accuracy, "train_images": len(train_s) + len(train_r),
            "held_out_images": len(held_s) + len(held_r)}
    return _Judge(classifier, size, info, held_keys, held_s, held_r)


def _transfer_scores(options: Any, converted: _Images, reference: _Images, source: _Images | None,
                     cycled: _Images | None) -> dict[str, Any]:
    judge = _judge(options, source, reference)
    p_ref = judge.p_a(judge.reference)
    p_src_real = judge.p_a(judge.source) if judge.source else None
    # A saved classifier labels domains A/B; decide which one the source is.
    source_is_a = _mean(p_src_real) >= 0.5 if p_src_real is not None else _mean(p_ref) < 0.5

    def p_src(images: Sequence[torch.Tensor]) -> torch.Tensor:
        p = judge.p_a(images)
        return p if source_is_a else 1 - p

    p_fake = p_src(converted.subset(judge.held))
    scores: dict[str, Any] = {
        "classifier": {**judge.info, "image_size": judge.size},
        "direction": "A->B" if source_is_a else "B->A",
        "p_target": {"reference": 1 - _mean(p_src(judge.reference)), "converted": 1 - _mean(p_fake)},
        "transfer_rate": float((p_fake < 0.5).float().mean()),
        "scored_converted": int(p_fake.numel()),
    }
    if judge.source:
        p_src_real = p_src(judge.source)
        scores["p_target"]["source"] = 1 - _mean(p_src_real)
    if cycled is not None:
        p_cycle = p_src(cycled.subset(judge.held))
        scores["p_target"]["cycled"] = 1 - _mean(p_cycle)
        if judge.source:
            scores["strength"] = transfer_strength(p_src_real, p_fake, p_cycle, 0.0, 0.0, 0.0)["S_A->B"]
    if "strength" not in scores and judge.source:
        scores["strength_one_sided"] = _mean(p_src_real) - _mean(p_fake)
    return scores


def _board_key(period: int) -> str:
    """The result key of a lattice period: ``checkerboard`` for 2 px (the key older reports have)."""
    return "checkerboard" if period == 2 else f"checkerboard_period{period}"


def _checkerboards(converted: _Images, source: _Images | None, reference: _Images) -> dict[str, Any]:
    """Lattice shares of every period in ``PERIODS``: converted over source for the converted images
    whose source has the same file name (only the converted images' share when there is no such pair),
    and the real reference images' share at the converted size with converted over reference.  Sources
    and references are resized once, before the periods are measured."""
    sources = source.by_key() if source is not None else {}
    pairs = [(image, resized_like(sources[key], image))
             for image, key in zip(converted.images, converted.keys) if key in sources]
    references = [resized_like(image, converted.images[0]) for image in reference.images]
    boards: dict[str, Any] = {}
    for period in PERIODS:
        if pairs:
            outputs, originals = zip(*pairs)
            board: dict[str, Any] = {**checkerboard_ratio(outputs, originals, period), "pairs": len(pairs)}
        else:
            board = {"converted": mean_lattice_share(converted.images, period), "pairs": 0}
        board["reference"] = mean_lattice_share(references, period)
        board["ratio_to_reference"] = (board["converted"] / board["reference"] if board["reference"] > 0
                                       else float("inf"))
        boards[_board_key(period)] = board
    return boards


def _fid_scores(path: Path, converted: _Images, reference: _Images, source: _Images | None) -> dict[str, Any]:
    network = InceptionFeatures(path)
    ref = network(reference.images)
    fake = network(converted.images)
    kid, kid_std = kernel_inception_distance(fake, ref)
    scores: dict[str, Any] = {"fid": frechet_distance(fake, ref), "kid": kid, "kid_std": kid_std}
    if source is not None:
        base = network(source.images)
        scores["fid_source"] = frechet_distance(base, ref)
        scores["kid_source"] = kernel_inception_distance(base, ref)[0]
    return scores


def evaluate_images(converted: Path, reference: Path, source: Path | None, options: Any) -> dict[str, Any]:
    converted_imgs, reference_imgs = _Images(converted), _Images(reference)
    source_imgs = _Images(source) if source is not None else None
    cycled_imgs = _Images(Path(options.cycled)) if options.cycled else None
    result: dict[str, Any] = {
        "counts": {"converted": len(converted_imgs), "reference": len(reference_imgs),
                   "source": len(source_imgs) if source_imgs else 0, "cycled": len(cycled_imgs) if cycled_imgs else 0},
    }
    result.update(_transfer_scores(options, converted_imgs, reference_imgs, source_imgs, cycled_imgs))
    result.update(_checkerboards(converted_imgs, source_imgs, reference_imgs))
    if options.inception:
        result.update(_fid_scores(Path(options.inception), converted_imgs, reference_imgs, source_imgs))
    return result


def format_image_evaluation(result: dict[str, Any]) -> str:
    counts = result["counts"]
    clf = result["classifier"]
    origin = "trained here on half of source/reference" if clf["trained_here"] else clf.get("path", "")
    lines = [
        f"images: {counts['converted']} converted, {counts['reference']} reference, {counts['source']} source, "
        f"{counts['cycled']} cycled",
        f"domain classifier: {origin} ({clf['image_size']} px), held-out accuracy {clf['accuracy']:.3f}",
        f"direction (classifier labels): {result['direction']}",
        f"{'images':<12}{'P_target':>10}",
    ]
    for name in ("source", "converted", "cycled", "reference"):
        if name in result["p_target"]:
            lines.append(f"{name:<12}{result['p_target'][name]:>10.3f}")
    lines.append(f"transfer rate (converted judged as target): {result['transfer_rate']:.3f} "
                 f"of {result['scored_converted']}")
    if "strength" in result:
        lines.append(f"transfer strength S: {result['strength']:.3f}")
    elif "strength_one_sided" in result:
        lines.append(f"transfer strength without cycle (P_src(x) - P_src(G(x))): {result['strength_one_sided']:.3f}")
    for period in PERIODS:
        board = result.get(_board_key(period))
        if board is not None:
            lines.extend(_checkerboard_lines(board, period))
    if "fid" in result:
        lines.append(f"FID {result['fid']:.2f}  KID {result['kid']:.4f} +- {result['kid_std']:.4f}")
        if "fid_source" in result:
            lines.append(f"baseline (unconverted source vs reference): FID {result['fid_source']:.2f}  "
                         f"KID {result['kid_source']:.4f}")
    return "\n".join(lines)


def _checkerboard_lines(board: dict[str, Any], period: int) -> list[str]:
    """The report lines of one lattice period: against the sources, then against the real references."""
    label = f"checkerboard, period {period} px (energy share"
    if board["pairs"]:
        first = (f"{label}, converted / source, {board['pairs']} pairs): "
                 f"{board['ratio']:.2f} ({board['converted']:.5f} / {board['source']:.5f})")
    else:
        first = (f"{label} of converted images): {board['converted']:.5f} "
                 "(no source with the same file names to compare with)")
    return [first, f"{label} of real reference images at the converted size): {board['reference']:.5f} "
                   f"(converted / reference {board['ratio_to_reference']:.2f})"]
