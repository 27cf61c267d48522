"""`benchmarks/default_job.py`: the README's figures of the default job are
the script's, and its summary keeps the promise about every run."""

import importlib.util
import json
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def default_job():
    spec = importlib.util.spec_from_file_location(
        "default_job", REPO / "benchmarks" / "default_job.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(wall, accuracy, energy, fraction=0.15):
    return {
        "wall_seconds": wall,
        "test_accuracy": accuracy,
        "energy_pointing_game": energy,
        "mask_fraction": fraction,
        "energy_ratio": energy / fraction,
        "train_images_per_second": 100.0,
    }


def test_readme_block_is_the_scripts_rendering_of_the_results(default_job):
    results = json.loads(default_job.RESULTS.read_text())
    text = default_job.README.read_text()
    block = text.split(default_job.BEGIN)[1].split(default_job.END)[0].strip()
    assert block == default_job.render(results)
    # The table says, per host, whether the job kept the bar; it is the
    # summary of the recorded runs, recomputed here.
    for entry in results["hosts"]:
        passes = default_job.summarize(entry["runs"])["passes"]
        assert entry["summary"]["passes"] is passes
        assert f"| {'yes' if passes else 'no'} |" in block


def test_summary_reports_the_slowest_run_and_fails_any_run_over_the_bar(default_job):
    runs = [_run(250.0, 0.99, 0.40), _run(290.0, 0.97, 0.36), _run(270.0, 0.95, 0.38)]
    summary = default_job.summarize(runs)
    assert summary["wall_seconds"] == 290.0
    assert summary["test_accuracy"] == 0.97 and summary["energy_pointing_game"] == 0.38
    assert summary["passes"]
    assert not default_job.summarize(runs + [_run(301.0, 0.99, 0.40)])["passes"]
    assert not default_job.summarize(runs + [_run(200.0, 0.89, 0.40)])["passes"]
    assert not default_job.summarize(runs + [_run(200.0, 0.99, 0.29)])["passes"]


def test_replace_block_keeps_the_text_around_it(default_job):
    text = f"a\n{default_job.BEGIN}\nold\n{default_job.END}\nb\n"
    assert default_job.replace_block(text, "new") == (
        f"a\n{default_job.BEGIN}\nnew\n{default_job.END}\nb\n"
    )
