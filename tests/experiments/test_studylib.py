"""The study as data (experiments/studylib): the datasets' descriptions, and
the runs they give, which must keep the names and recipes of the runs the
study has finished (its run folders and results resume by name)."""

import doctest
import json
import pathlib

import fin_width
import pytest
import run_study
import studylib
import studylib.datasets

REPO = pathlib.Path(__file__).resolve().parents[2]
COMMITTED = sorted((REPO / "experiments" / "results" / "runs").glob("*/*.json"))


def _every_spec(study):
    specs = list(run_study.all_specs(study))
    for comparison in fin_width.COMPARISONS:
        for arm in comparison.specs(study.size).values():
            specs += arm
    return {(spec.dataset, spec.name): spec for spec in specs}


def test_datasets_agree_with_the_package():
    from lficam_tf.data import SHAPES_CLASS_NAMES, SHAPES_IMAGE_SIZE
    from lficam_tf.presets import CIFAR10_CLASS_NAMES

    assert studylib.DATASETS == ("cifar10", "shapes")
    assert studylib.get_dataset("cifar10").class_names == CIFAR10_CLASS_NAMES
    assert studylib.get_dataset("shapes").class_names == SHAPES_CLASS_NAMES
    assert studylib.get_dataset("shapes").image_size == tuple(SHAPES_IMAGE_SIZE)
    assert studylib.get_dataset("cifar10").image_size == (32, 32)
    for name in studylib.DATASETS:
        data = studylib.get_dataset(name)
        assert studylib.BASE_RECIPES[name] is data.base_recipe
        assert studylib.VARIANTS[name] is data.variants
        assert len(data.variants) == studylib.SIZES["full"].variants
    with pytest.raises(ValueError, match="Did you mean 'cifar10'.*cifar10, shapes"):
        studylib.get_dataset("cifar")


def test_each_dataset_has_its_own_part_of_a_size(tmp_path):
    full = studylib.SIZES["full"]
    cifar, shapes = (studylib.get_dataset(n).size(full) for n in ("cifar10", "shapes"))
    assert (cifar.epochs, cifar.variant_epochs) == (15, 5)
    assert (shapes.epochs, shapes.variant_epochs) == (3, 3)
    study = studylib.Study("full", tmp_path, tmp_path, cifar_dir=tmp_path / "c")
    assert studylib.get_dataset("cifar10").training_fields(study) == {
        "dataset": str(tmp_path / "c"),
        "num_train": None,
        "num_test": None,
        "jit_compile": None,
    }
    assert studylib.get_dataset("shapes").training_fields(study)["dataset"] == "shapes"


def test_the_study_keeps_the_names_of_its_runs(tmp_path):
    study = studylib.Study("full", tmp_path, tmp_path, cifar_dir=tmp_path / "c")
    names = {name for _, name in _every_spec(study)}
    assert {
        "lficam-s0-e15",
        "abn-b256-s4-e5",
        "baseline-s0-e3",
        "lficam-wd5e-3-s3-e3",
        "lficam-s0-e3-w16",
        "lficam-s1-e3-i128-mobilenetv2-w80",
        "lficam-s0-e3-i128-mobilenetv2-wfull",
        "lficam-s1-e15-w16",
    } <= names
    assert len(names) == 31  # 12 CIFAR-10, 11 shapes, 8 more for fin_width


@pytest.mark.skipif(not COMMITTED, reason="no committed run records")
def test_committed_runs_are_runs_of_the_study_with_their_recipe(tmp_path):
    """Each run the study has finished (results/runs/<dataset>/<run>.json) is
    one of its specs, and the spec's configuration is the recipe the run
    trained with: the scripts find it, skip it, or resume it."""
    study = studylib.Study("full", tmp_path, tmp_path, cifar_dir=tmp_path / "c")
    specs = _every_spec(study)
    for path in COMMITTED:
        record = json.loads(path.read_text())
        spec = specs[(path.parent.name, path.stem)]
        assert (record["dataset"], record["run"]) == (spec.dataset, spec.name)
        config = spec.config(study).to_dict()
        assert {key: config[key] for key in record["recipe"]} == record["recipe"], path


def test_docstring_examples():
    result = doctest.testmod(studylib.datasets)
    assert result.attempted and not result.failed


def test_plan_scales_the_guessed_speeds_by_the_datasets_own_size(tmp_path, capsys):
    """run_study.py --plan: speeds guessed at each dataset's own size (32x32,
    64x64), scaled by pixels for the tiny study's 16x16 and 32x32."""
    study = studylib.Study("tiny", tmp_path, tmp_path, cifar_dir=tmp_path / "c")
    run_study.plan(study, {})
    rows = {
        line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
    }
    assert rows["cifar10/baseline-s0-e1-i16"][4] == "584"  # 146 x (32 x 32) / (16 x 16)
    assert rows["shapes/baseline-s0-e1-i32"][4] == "152"  # 38 x (64 x 64) / (32 x 32)
