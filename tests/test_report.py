"""``cycleaudio report``: the HTML page of each task, opened in a real headless browser, and the
TensorBoard images written at sample points."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cycleaudio.cli import main
from cycleaudio.errors import CycleAudioError
from cycleaudio.page import Html, Page

from .voice_data import write_speaker, write_training_pair

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IN_CI = os.environ.get("CI") == "true"  # where the browser checks must run (.ci/run installs chromium)
needs_browser = pytest.mark.skipif(CHROMIUM is None and not IN_CI,
                                   reason="no chromium on PATH (apt-get install chromium); .ci/run installs it")
VOICE_STEPS = ["--set", "train.steps=4", "--set", "train.sample_every=4", "--set", "train.log_every=1"]


def invoke(*args: str | Path) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def open_in_browser(index: Path, screenshot: Path) -> dict[str, str]:
    """Load ``index`` in headless Chromium: the ``data-*`` attributes the page's media check wrote on
    ``<body>`` (from the DOM after the page settled), and a screenshot of the top of the page."""
    profile = screenshot.parent / "chromium-profile"
    command = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--mute-audio", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--virtual-time-budget=15000", "--window-size=1200,1600"]
    dom = subprocess.run([*command, "--dump-dom", index.as_uri()], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    subprocess.run([*command, f"--screenshot={screenshot}", index.as_uri()], capture_output=True, timeout=120,
                   check=True)
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))


def media_sources(index: Path) -> list[str]:
    return re.findall(r'<(?:img|audio)[^>]* src="([^"]+)"', index.read_text(encoding="utf-8"))


def check_self_contained(index: Path) -> None:
    """Every media link is relative and points at a file inside the report folder."""
    sources = media_sources(index)
    assert sources
    for src in sources:
        assert src.startswith("assets/") and (index.parent / src).is_file(), src


def check_in_browser(index: Path, screenshot: Path) -> None:
    """Every <img> and <audio> loaded, none failed, no script error, and the screenshot was taken."""
    assert CHROMIUM, "no chromium on PATH"
    state = open_in_browser(index, screenshot)
    total = len(media_sources(index))
    assert state == {"media-total": str(total), "media-loaded": str(total), "media-failed": "0",
                     "script-errors": "0", "media-done": "yes"}
    assert screenshot.stat().st_size > 10_000


# --------------------------------------------------------------------------- the page writer
def test_page_escapes_text_and_copies_media(tmp_path: Path) -> None:
    clip = tmp_path / "in" / "a b&c.wav"
    clip.parent.mkdir()
    clip.write_bytes(b"RIFF")
    page = Page(tmp_path / "report", "<title>")
    page.table(["", "x"], [["<b>", 0.123456], ["player", page.audio(clip)], ["again", page.audio(clip)]])
    page.add("1 < 2")
    page.add(Html("<hr>"))
    text = page.write().read_text()
    assert "<h1>&lt;title&gt;</h1>" in text and "<th class=\"text\">&lt;b&gt;</th>" in text and "<td>0.1235</td>" in text
    assert "<p>1 &lt; 2</p>" in text and "<hr>" in text
    assert media_sources(tmp_path / "report" / "index.html") == ["assets/a_b_c.wav", "assets/a_b_c_2.wav"]
    assert (tmp_path / "report" / "assets" / "a_b_c_2.wav").read_bytes() == b"RIFF"
    Page(tmp_path / "report", "again").write()  # a new page into the same folder replaces the old assets
    assert not list((tmp_path / "report" / "assets").iterdir())
    (tmp_path / "other" / "assets").mkdir(parents=True)
    with pytest.raises(CycleAudioError, match="no report's"):
        Page(tmp_path / "other", "x")


def test_report_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = [
        ([str(tmp_path / "nope"), "-o", str(tmp_path / "r")], "nope: no such file or folder"),
        (["-o", str(tmp_path / "r")], "nothing to report"),
        ([str(tmp_path), "-o", str(tmp_path / "r")], "not an experiment folder (no recipe.yaml)"),
        (["--converted", str(tmp_path), "--task", "poetry", "-o", str(tmp_path / "r")], "--task: task must be one of"),
    ]
    (tmp_path / "eval.json").write_text("[1, 2]")
    cases.append((["--evaluation", str(tmp_path / "eval.json"), "-o", str(tmp_path / "r")], "not an evaluation JSON"))
    for args, message in cases:
        result = runner.invoke(main, ["report", *args])
        assert result.exit_code == 2 and message in result.output and len(result.output.splitlines()) == 1, result.output


# --------------------------------------------------------------------------- voice: a real run
@pytest.fixture(scope="module")
def voice_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny trained run, its conversions (model and statistics-only), their evaluation and the report."""
    root = tmp_path_factory.mktemp("voice_report")
    write_training_pair(root)
    write_speaker(root / "eval_male", "male", [10, 11], take=1)
    write_speaker(root / "eval_female", "female", [10], take=1)  # one reference: one pair to evaluate
    exp = root / "exp"
    invoke("train", "vc_male2female_debug", "--out", exp, "--quiet", "--set", f"data.domain_a={root / 'male'}",
           "--set", f"data.domain_b={root / 'female'}", "--set", f"data.cache_dir={root / 'cache'}", *VOICE_STEPS)
    for folder, extra in (("converted", []), ("statistics_only", ["--statistics-only"])):
        invoke("convert", "--model", exp, "--direction", "a2b", "--quiet", *extra, root / "eval_male", root / folder)
    invoke("evaluate", root / "converted", root / "eval_female", "--source", root / "eval_male", "--baseline",
           root / "statistics_only", "--json", root / "eval.json", "--quiet")
    invoke("report", exp, "-o", root / "report", "--converted", root / "converted", "--reference",
           root / "eval_female", "--source", root / "eval_male", "--baseline", root / "statistics_only",
           "--evaluation", root / "eval.json")
    return {"root": root, "exp": exp, "index": root / "report" / "index.html"}


@pytest.mark.e2e
def test_voice_report_shows_every_part(voice_report: dict[str, Path]) -> None:
    index = voice_report["index"]
    text = index.read_text(encoding="utf-8")
    check_self_contained(index)
    for part in ("Training", "loss and learning-rate curves", "step_0000004.pt", "cyclegan_vc2",
                 "Voice conversion", "unconverted", "statistics-only", "MCD [dB]", "s0010", "s0011"):
        assert part in text, part
    # per utterance: source, conversion, statistics-only and reference (s0010 only) players and one
    # figure, plus the curves
    assert text.count("<audio") == 4 + 3 and text.count("<img") == 2 + 1
    assert "lr_g" in text  # learning rates are logged and plotted
    # a run alone: the training section only
    invoke("report", voice_report["exp"], "-o", voice_report["root"] / "training_only")
    alone = (voice_report["root"] / "training_only" / "index.html").read_text(encoding="utf-8")
    assert "loss and learning-rate curves" in alone and "Voice conversion" not in alone


@pytest.mark.e2e
@needs_browser
def test_voice_report_loads_in_headless_chromium(voice_report: dict[str, Path]) -> None:
    check_in_browser(voice_report["index"], voice_report["root"] / "voice_report.png")


@pytest.mark.e2e
def test_tensorboard_gets_spectrogram_and_f0_images(voice_report: dict[str, Path]) -> None:
    events = EventAccumulator(str(voice_report["exp"] / "tb"), size_guidance={"images": 0}).Reload()
    tags = events.Tags()["images"]
    assert {t.split("/")[1] for t in tags if t.startswith("spectrogram_f0/")} == {"a2b", "b2a"}
    image = events.Images(tags[0])[-1]
    assert image.step == 4 and image.width > 300 and image.height > 300


# --------------------------------------------------------------------------- music and images
@pytest.mark.e2e
def test_music_report_with_rolls_previews_and_metrics(tmp_path: Path) -> None:
    invoke("builtin-data", "music", tmp_path / "songs")
    source = tmp_path / "source"
    source.mkdir()
    for path in sorted((tmp_path / "songs" / "test" / "classical").glob("*.mid"))[:2]:
        shutil.copy(path, source / path.name)
    # a stand-in "transfer" and "cycle": the report does not care how the songs were made
    shutil.copytree(source, tmp_path / "transfer")
    shutil.copytree(source, tmp_path / "cycled")
    invoke("evaluate", tmp_path / "transfer", tmp_path / "songs" / "test" / "pop", "--source", source,
           "--json", tmp_path / "eval.json", "--quiet")
    invoke("report", "-o", tmp_path / "report", "--converted", tmp_path / "transfer", "--source", source,
           "--cycled", tmp_path / "cycled", "--evaluation", tmp_path / "eval.json")
    index = tmp_path / "report" / "index.html"
    text = index.read_text(encoding="utf-8")
    check_self_contained(index)
    assert "Music transfer" in text and "pitch_class_distance" in text and "first 8 bars" in text
    assert text.count("<audio") == 2 * 3 and text.count("<img") == 2  # source, transfer, cycle per song
    if CHROMIUM or IN_CI:
        check_in_browser(index, tmp_path / "music_report.png")


@pytest.mark.e2e
def test_image_report_with_grids_and_scores(tmp_path: Path) -> None:
    invoke("builtin-data", "image", tmp_path / "data")
    source = tmp_path / "source"
    source.mkdir()
    for path in sorted((tmp_path / "data" / "testA").glob("*.png"))[:3]:
        shutil.copy(path, source / path.name)
    shutil.copytree(source, tmp_path / "converted")
    scores = {"task": "image", "counts": {"converted": 3, "reference": 3, "source": 3, "cycled": 0},
              "classifier": {"trained_here": True, "accuracy": 1.0, "image_size": 16}, "direction": "A->B",
              "p_target": {"source": 0.1, "converted": 0.7, "reference": 0.9}, "transfer_rate": 0.66,
              "scored_converted": 3, "strength_one_sided": 0.6}
    (tmp_path / "eval.json").write_text(json.dumps(scores))
    invoke("report", "-o", tmp_path / "report", "--converted", tmp_path / "converted", "--source", source,
           "--cycled", source, "--evaluation", tmp_path / "eval.json")
    index = tmp_path / "report" / "index.html"
    text = index.read_text(encoding="utf-8")
    check_self_contained(index)
    assert "input | output | cycled" in text and "P(target domain)" in text and "transfer strength without cycle" in text
    assert text.count("<img") == 3
    if CHROMIUM or IN_CI:
        check_in_browser(index, tmp_path / "image_report.png")
