"""The run folder: atomic writes, choosing / resuming / refusing folders, locks."""

import json
import os

import pytest

from lficam_tf.training import ConfigError
from lficam_tf.training import run_dir as run_dir_lib
from lficam_tf.training.run_dir import (
    RunDir,
    RunLock,
    atomic_path,
    atomic_write_text,
    choose_run_dir,
    find_unfinished_run,
    resume_config,
)
from lficam_tf.training.trainer import make_config


def _start(path, config):
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(config.to_json())
    return RunDir(path)


def test_atomic_write_replaces_in_one_step(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, '{"a": 1}')
    assert json.loads(target.read_text()) == {"a": 1}
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    # The old file is intact and no temporary file is left.
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_new_folder_under_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = make_config(epochs=2, verbose=0)
    run, resumed = choose_run_dir(config)
    assert not resumed
    assert run.path.parent.name == "runs"
    assert run.path.name.startswith("shapes-")
    # Choosing writes nothing but the empty folder that makes the name unique.
    assert run.reserved and list(run.path.iterdir()) == []


def test_two_runs_started_in_the_same_second_get_two_folders(tmp_path, monkeypatch):
    # Neither has written anything yet when the other chooses.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(run_dir_lib.time, "strftime", lambda _: "20260101-120000")
    config = make_config(epochs=2, verbose=0)
    first, _ = choose_run_dir(config)
    second, _ = choose_run_dir(config)
    assert first.path.name == "shapes-20260101-120000"
    assert second.path.name == "shapes-20260101-120000-2"


def test_same_command_resumes_the_newest_unfinished_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = make_config(epochs=2, verbose=0)
    old = _start(tmp_path / "runs" / "shapes-1", config)
    newer = _start(tmp_path / "runs" / "shapes-2", config)
    os.utime(old.config, (1, 1))
    _start(tmp_path / "runs" / "other", config.replace(epochs=3))
    finished = _start(tmp_path / "runs" / "done", config)
    finished.metrics.write_text("{}")
    run, resumed = choose_run_dir(config)
    assert resumed and run.path.resolve() == newer.path
    # A run another process holds is not taken over.
    lock = RunLock(newer).acquire()
    try:
        assert find_unfinished_run(config).path.resolve() == old.path
    finally:
        lock.release()
    # Devices, threads, output folder and verbosity may differ.
    assert (
        find_unfinished_run(config.replace(devices=1, threads="tf")).path.resolve()
        == newer.path
    )


def test_explicit_folder_resumes_same_config(tmp_path):
    config = make_config(epochs=2, output_dir=str(tmp_path / "run"))
    _start(tmp_path / "run", config)
    run, resumed = choose_run_dir(config.replace(devices=1))
    assert resumed and run.path == tmp_path / "run"


def test_refuses_a_finished_run(tmp_path):
    config = make_config(output_dir=str(tmp_path / "run"))
    _start(tmp_path / "run", config).metrics.write_text("{}")
    with pytest.raises(
        ConfigError,
        match=r"`output_dir` holds a finished run .*Pass another --output-dir",
    ):
        choose_run_dir(config)


def test_refuses_an_unfinished_run_of_another_config(tmp_path):
    config = make_config(output_dir=str(tmp_path / "run"))
    _start(tmp_path / "run", config.replace(epochs=7))
    with pytest.raises(
        ConfigError,
        match=rf"another configuration \(epochs: 7 in the folder, {config.epochs} "
        r"now\).*--resume",
    ):
        choose_run_dir(config)


def test_refuses_foreign_files_and_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(
        ConfigError, match=r"must be a new or empty folder.*holds other files"
    ):
        choose_run_dir(make_config(output_dir=str(tmp_path)))
    with pytest.raises(
        ConfigError, match=r"`output_dir` must be a folder.*which is a file"
    ):
        choose_run_dir(make_config(output_dir=str(tmp_path / "notes.txt")))


def test_broken_config_json(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"is not a readable training configuration"):
        choose_run_dir(make_config(output_dir=str(tmp_path)))


def test_lock_is_exclusive(tmp_path):
    run = RunDir(tmp_path / "run")
    first = RunLock(run).acquire()
    try:
        assert RunLock(run).locked_by_other()
        with pytest.raises(
            ConfigError, match=r"Another process is training in .* right now"
        ):
            RunLock(run).acquire()
    finally:
        first.release()
    assert not RunLock(run).locked_by_other()


def test_resume_config(tmp_path):
    config = make_config(epochs=3, seed=5, output_dir=str(tmp_path / "old"))
    _start(tmp_path / "run", config)
    resumed = resume_config(tmp_path / "run", {"devices": 1, "epochs": 3})
    assert resumed.seed == 5 and resumed.devices == 1
    assert resumed.output_dir == str(tmp_path / "run")
    # The same value in another spelling is no change.
    assert resume_config(tmp_path / "run", {"image_size": None}).epochs == 3
    with pytest.raises(
        ConfigError,
        match=r"continues the run in .* with its own configuration, but other values "
        r"were given \(epochs: 3 in the folder, 9 now\)",
    ):
        resume_config(tmp_path / "run", {"epochs": 9})
    with pytest.raises(
        ConfigError, match=r"`resume` must be a run folder with a config.json"
    ):
        resume_config(tmp_path / "missing", {})


def test_remove_checkpoints(tmp_path):
    run = RunDir(tmp_path)
    run.checkpoints.mkdir()
    (run.checkpoints / "latest.weights.h5").write_text("x")
    run_dir_lib.remove_checkpoints(run)
    assert not run.checkpoints.exists()


def test_remove_partial_files_keeps_everything_else(tmp_path):
    run = RunDir(tmp_path)
    keep = [run.config, run.serving / "1" / "saved_model.pb", tmp_path / ".lock"]
    left = [
        tmp_path / ".model.k2j4.partial.keras",
        tmp_path / ".attention.x1.partial.png",
        run.serving / ".2.partial-0a1b2c3d" / "saved_model.pb",
    ]
    for path in keep + left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    removed = run_dir_lib.remove_partial_files(run)
    assert removed == sorted([left[0], left[1], left[2].parent])
    assert all(path.exists() for path in keep)
    assert not any(path.exists() for path in left)


def test_output_errors_name_the_folder_and_pass_other_errors(tmp_path):
    import errno

    run = RunDir(tmp_path / "run")
    cases = [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (OSError(errno.EROFS, "Read-only file system", str(run.path)), True),
        (PermissionError(errno.EACCES, "Permission denied", str(run.metrics)), True),
        # Not the output folder's: a data file the user may not read.
        (PermissionError(errno.EACCES, "Permission denied", "/data/x.jpg"), False),
        (FileNotFoundError(errno.ENOENT, "No such file", str(run.model)), False),
    ]
    for error, converted in cases:
        with (
            pytest.raises(ConfigError if converted else type(error)) as info,
            run_dir_lib.output_errors(run),
        ):
            raise error
        if converted:
            assert f"Received: output_dir='{run.path}': {error.strerror}" in str(
                info.value
            )
            assert info.value.__cause__ is error
    with (
        pytest.raises(ConfigError, match=r"\(writing .*metrics\.json\)"),
        run_dir_lib.output_errors(run),
    ):
        raise PermissionError(errno.EACCES, "Permission denied", str(run.metrics))


def _csv(run, epochs):
    rows = ["epoch,loss,val_accuracy\n"] + [f"{e},0.5,0.{e}\n" for e in epochs]
    run.csv_log.write_text("".join(rows))


def _epochs_in_csv(run):
    return [
        int(line.split(",")[0]) for line in run.csv_log.read_text().splitlines()[1:]
    ]


def test_a_resume_drops_the_files_of_the_epoch_a_kill_lost(tmp_path):
    # Killed after epoch 3's CSV row and best model, before its checkpoint:
    # the checkpoint holds 2 epochs, the resumed run repeats epoch 3.
    run = _start(tmp_path / "run", make_config())
    _csv(run, [0, 1, 2])
    run.csv_log.write_text(run.csv_log.read_text() + "3,0.")  # cut by the kill
    run.best_model.write_text("model of epoch 2")
    run.best_state.write_text(json.dumps({"best_accuracy": 0.5, "best_epoch": 2}))
    run.pending_best_model.write_text("model of epoch 3")
    run.pending_best_state.write_text(
        json.dumps({"best_accuracy": 0.7, "best_epoch": 3})
    )
    run_dir_lib.agree_with_checkpoint(run, 2)
    assert _epochs_in_csv(run) == [0, 1]
    assert json.loads(run.best_state.read_text())["best_epoch"] == 2
    assert run.best_model.read_text() == "model of epoch 2"
    assert not run.pending_best_model.exists() and not run.pending_best_state.exists()


def test_a_resume_keeps_a_best_model_whose_epoch_was_checkpointed(tmp_path):
    # Killed after the checkpoint of epoch 3, between the renames of its best.
    run = _start(tmp_path / "run", make_config())
    _csv(run, [0, 1, 2])
    run.best_model.write_text("model of epoch 3")  # renamed already
    run.best_state.write_text(json.dumps({"best_accuracy": 0.5, "best_epoch": 2}))
    run.pending_best_state.write_text(
        json.dumps({"best_accuracy": 0.7, "best_epoch": 3})
    )
    run_dir_lib.agree_with_checkpoint(run, 3)
    assert _epochs_in_csv(run) == [0, 1, 2]
    assert json.loads(run.best_state.read_text()) == {
        "best_accuracy": 0.7,
        "best_epoch": 3,
    }
    assert run.best_model.read_text() == "model of epoch 3"
    assert not run.pending_best_state.exists()
