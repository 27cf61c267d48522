"""run_study.py passes every common option on to its steps, and the help
shows the study's own defaults."""

import argparse

import run_study
import studylib


def test_every_common_option_reaches_the_steps(monkeypatch, tmp_path):
    passed = {}
    monkeypatch.setattr(
        run_study,
        "run_steps",
        lambda args, tables, say: passed.setdefault("argv", args),
    )
    monkeypatch.setattr(studylib, "configure_threads", lambda: None)
    argv = [
        "--tiny", "--quiet", "--results", str(tmp_path / "r"), "--runs",
        str(tmp_path / "runs"), "--cifar-dir", str(tmp_path / "c"),
        "--shared-data", str(tmp_path / "s"), "--cifar-epochs", "2",
        "--cifar-variant-epochs", "3", "--seeds", "2", "--variants", "3",
        "--shapes-image-size", "32",
    ]  # fmt: skip
    assert run_study.main(argv) == 0
    parser = studylib.add_common_arguments(argparse.ArgumentParser())
    given, child = parser.parse_args(argv), parser.parse_args(passed["argv"])
    assert vars(child) == vars(given)
    assert child.variants == 3  # was dropped: 3 models planned, 5 run


def test_the_help_shows_the_sizes_defaults():
    text = studylib.add_common_arguments(argparse.ArgumentParser()).format_help()
    text = " ".join(text.split())
    full, tiny = studylib.SIZES["full"], studylib.SIZES["tiny"]
    assert (
        f"epochs of the other CIFAR-10 stability models (default: "
        f"{full.cifar_variant_epochs}; --tiny: {tiny.cifar_variant_epochs})" in text
    )
    assert f"(default: {full.variants}; --tiny: {tiny.variants})" in text
