"""train_tf.py's flags, and each bad input: one message with the fix, exit
status 2, no traceback, nothing written."""

import dataclasses
import errno
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from lficam_tf.training import TrainConfig, run_dir
from lficam_tf.training.cli import build_parser, main
from lficam_tf.training.presets import get_preset

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_help_documents_every_flag():
    text = build_parser().format_help()
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        assert flag in text, flag
    for flag in ("--resume", "--list-presets", "--print-config", "--traceback"):
        assert flag in text
    # Defaults are those of the default preset.
    assert f"(default: {get_preset('shapes')['backbone']})" in text
    assert f"(default: {get_preset('shapes')['epochs']})" in text


def test_print_config_applies_flags_over_the_preset(capsys):
    assert (
        main(
            [
                "--print-config",
                "--preset",
                "cifar",
                "--epochs",
                "30",
                "--head",
                "abn",
                "--randaugment",
                "--devices",
                "/gpu:0,/gpu:1",
                "--fin-width",
                "auto",
                "--image-size",
                "40x32",
            ]
        )
        == 0
    )
    config = json.loads(capsys.readouterr().out)
    assert config["epochs"] == 30 and config["lr_steps"] == [15, 22]
    assert config["head"] == "abn" and config["randaugment"] is True
    assert config["devices"] == ["/gpu:0", "/gpu:1"] and config["image_size"] == [
        40,
        32,
    ]
    assert config["backbone"] == "cifar_resnet110" and config["fin_width"] == "auto"


def test_list_presets(capsys):
    assert main(["--list-presets"]) == 0
    out = capsys.readouterr().out
    for name in ("shapes", "cifar", "stl10", "catdog", "imagenet"):
        assert f"{name}:" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--schedule", "step"], r"schedule='step' needs the epochs of its steps"),
        (
            ["--preset", "cifar", "--lr-steps", "150,400"],
            r"`lr_steps` must be increasing epochs between 1 and epochs - 1 = 299",
        ),
        (
            ["--optimizer", "adam", "--momentum", "0.5"],
            r"`momentum` applies to optimizer='sgd' only",
        ),
        (
            ["--head", "abn", "--fin-width", "32"],
            r"`fin_width`, `fin_depth` and `fin_relu` apply to head='lficam' only",
        ),
        (
            ["--head", "baseline", "--fin-relu", "every"],
            r"fin_relu='every'. Drop them, or use --head lficam",
        ),
        (["--devices", "64"], r"`devices` asks for 64 devices, but this machine has"),
        (
            ["--devices", "/gpu:9"],
            r"`devices` names '/gpu:9', which this machine does not have",
        ),
        (
            ["--backbone", "resnet5", "--num-train", "8", "--num-test", "8"],
            r"Unknown backbone 'resnet5'",
        ),
        (["--threads", "lots"], r"`threads` must be 'auto', 'tf' or 'INTER,INTRA'"),
        (
            [
                "--batch-size",
                "64",
                "--num-train",
                "8",
                "--num-test",
                "8",
                "--devices",
                "1",
                "--epochs",
                "1",
                "--warmup-epochs",
                "0",
                "--dataset",
                "no/such/folder",
            ],
            r"no/such/folder",
        ),
    ],
)
def test_bad_input_exits_2_with_the_fix(argv, message, capsys, tmp_path):
    out = tmp_path / "run"
    full = argv + ["--output-dir", str(out)]
    if "--threads" not in argv:
        full += ["--threads", "tf"]
    assert main(full) == 2
    err = capsys.readouterr().err
    assert err.startswith("train_tf.py: error: ")
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert not out.exists()  # nothing written


def test_tfds_dataset_not_prepared_offline(capsys, tmp_path):
    code = main(
        [
            "--dataset",
            "cifar10",
            "--data-dir",
            str(tmp_path / "tfds"),
            "--output-dir",
            str(tmp_path / "run"),
            "--threads",
            "tf",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cifar10" in err and str(tmp_path / "tfds") in err
    assert not (tmp_path / "run").exists()


def test_resume_with_another_config(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(
        TrainConfig.from_preset("shapes", epochs=3).to_json()
    )
    assert main(["--resume", str(run), "--epochs", "5"]) == 2
    err = capsys.readouterr().err
    assert "epochs: 3 in the folder, 5 now" in err
    # The same flags through --output-dir: refused as well, naming --resume.
    assert main(["--output-dir", str(run), "--epochs", "5", "--threads", "tf"]) == 2
    assert f"--resume {run}" in capsys.readouterr().err


def test_finished_output_dir(capsys, tmp_path):
    (tmp_path / "config.json").write_text(TrainConfig().to_json())
    (tmp_path / "metrics.json").write_text("{}")
    assert main(["--output-dir", str(tmp_path), "--threads", "tf"]) == 2
    assert "holds a finished run" in capsys.readouterr().err
    assert (tmp_path / "metrics.json").read_text() == "{}"


def test_argparse_rejects_unknown_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--head", "abm"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'abm'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--epochs", "three"])
    assert "expected an integer, got 'three'" in capsys.readouterr().err


@pytest.mark.slow
def test_script_exit_status_and_no_traceback(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "train_tf.py"),
            "--preset",
            "cifar",
            "--schedule",
            "cosine",
            "--lr-steps",
            "150,225",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    assert (
        "train_tf.py: error: `lr_steps` applies to schedule='step' only" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()


def test_a_read_only_output_folder_is_one_line(capsys, tmp_path, monkeypatch):
    out = tmp_path / "run"
    mkdir = pathlib.Path.mkdir

    def read_only(self, *args, **kwargs):
        if self == out:
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert main(["--output-dir", str(out), "--threads", "tf", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        f"train_tf.py: error: `output_dir` must be a folder this process can "
        f"write, with free space. Received: output_dir='{out}': Read-only file system."
    )
    assert not out.exists()


def test_a_full_disk_is_one_line_naming_the_folder(capsys, tmp_path, monkeypatch):
    from lficam_tf.training import trainer

    out = tmp_path / "run"

    def fills_the_disk(config, strategy, run, resumed, chief, start):
        run_dir.atomic_write_text(run.config, config.to_json())
        with run_dir.atomic_path(run.model) as tmp:
            tmp.write_bytes(b"half a model")
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(trainer, "_train", fills_the_disk)
    assert main(["--output-dir", str(out), "--threads", "tf"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"Received: output_dir='{out}': No space left on device. Free" in err
    # Nothing half-written.
    assert not (out / "model.keras").exists() and not list(out.glob(".*partial*"))


def test_help_is_instant_clean_and_loads_no_tensorflow():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / "train_tf.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: train_tf.py")
    imported = [line.split("|")[-1].strip() for line in done.stderr.splitlines()]
    assert imported and all(
        line.startswith("import time:") for line in done.stderr.splitlines()
    )
    heavy = [m for m in imported if m.split(".")[0] in ("tensorflow", "keras", "numpy")]
    assert heavy == []


def test_no_gpu_noise_is_dropped_and_real_errors_kept(capfd):
    from lficam_tf.tf_logs import NoGpuNoise, filtered_stderr

    preamble = (
        "WARNING: All log messages before absl::InitializeLog() is called are "
        "written to STDERR\n"
    )
    no_driver = (
        "I0000 00:00:1795959246.394679    4460 cudart_stub.cc:31] Could not find "
        "cuda drivers on your machine, GPU will not be used.\n"
    )
    cuinit = (
        "E0000 00:00:1795959287.497373    4554 cuda_platform.cc:52] failed call to "
        "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n"
    )
    other = "E0000 00:00:1795959287.5    4554 foo.cc:1] a real error\n"
    # With a driver installed (no "Could not find cuda drivers"), a failing
    # cuInit is a real error and shows.
    with filtered_stderr(NoGpuNoise().keep):
        os.write(2, (preamble + cuinit).encode())
    assert capfd.readouterr().err == cuinit
    with filtered_stderr(NoGpuNoise().keep):
        os.write(2, (preamble + no_driver + other + preamble + no_driver).encode())
        os.write(2, cuinit.encode())
    assert capfd.readouterr().err == other


def test_print_config_refuses_cutmix_above_one(capsys):
    assert main(["--cutmix", "1.5", "--print-config"]) == 2
    assert "`cutmix` must be <= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flag", ["--learning-rate", "--weight-decay", "--mixup", "--lr-decay"]
)
@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_non_finite_numbers_are_refused(flag, value, capsys):
    assert main([f"{flag}={value}", "--print-config"]) == 2
    err = capsys.readouterr().err
    name = flag[2:].replace("-", "_")
    assert f"`{name}` must be a finite number" in err, err


def test_a_default_folder_is_removed_when_the_run_cannot_start(
    capsys, tmp_path, monkeypatch
):
    # The default folder is made when it is chosen (so that its name is
    # unique); a run that fails before it starts leaves no folder behind.
    monkeypatch.chdir(tmp_path)
    argv = ["--dataset", "no/such/folder", "--threads", "tf", "--verbose", "0"]
    assert main(argv) == 2
    assert "no/such/folder" in capsys.readouterr().err
    assert list((tmp_path / "runs").glob("*")) == []


def test_attention_images_help_says_what_attention_png_shows():
    from lficam_tf.training.finish import FIGURE_IMAGES

    text = " ".join(build_parser().format_help().split())
    assert (
        f"attention.png shows the first {FIGURE_IMAGES} of them at the end; 0 "
        "writes neither (default: 16)" in text
    )


def test_the_closing_line_names_only_the_files_written(tmp_path):
    from lficam_tf.training.finish import summary_text

    run = run_dir.RunDir(tmp_path)
    for name in ("model.keras", "best.keras", "metrics.json", "training_log.csv"):
        (tmp_path / name).write_text("x")
    for name in ("serving", "tensorboard"):
        (tmp_path / name).mkdir()
    metrics = {
        "test_accuracy": 0.5,
        "best_test_accuracy": None,
        "energy_pointing_game": None,
        "train_images_per_second": None,
        "wall_seconds": 3.0,
    }
    last = summary_text(metrics, run).splitlines()[-1]  # --attention-images 0
    assert last == (
        f"wrote {tmp_path}: model.keras, best.keras, serving/, metrics.json, "
        "training_log.csv, tensorboard/"
    )
    (tmp_path / "attention.png").write_text("x")
    assert "serving/, attention.png, metrics.json" in summary_text(metrics, run)
