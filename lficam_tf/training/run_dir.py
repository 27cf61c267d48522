"""The output folder of a run: its layout, atomic writes, resuming, locking.

Layout (`RunDir`):

    config.json           the resolved TrainConfig, written before epoch 1
    checkpoints/          BackupAndRestore's checkpoint (model + optimizer +
                          epoch), rewritten every epoch, removed at the end
    best.keras, best.json the model of the best test accuracy so far
                          (a new best is written as .best.pending.keras /
                          .json first, and takes their place once its
                          epoch's checkpoint is written)
    training_log.csv      one row per epoch (Keras CSVLogger)
    tensorboard/          scalars and attention overlays per epoch
    model.keras           the final model          } written at the end,
    serving/<version>/    TF Serving SavedModel    } each atomically,
    attention.png         maps on test images      } metrics.json last
    metrics.json          the final numbers

A run is finished exactly when `metrics.json` exists: every file is written
to a temporary name and renamed, and metrics.json comes last, so a killed
run never looks finished. A folder with `config.json` and no
`metrics.json` is an unfinished run, which the same command resumes; the
resume removes the temporary files a killed run left
(`remove_partial_files`), and adds the time of the earlier calls, kept in
`checkpoints/wall_seconds.json`, to the run's `wall_seconds`. A kill
between an epoch's files and its checkpoint loses that epoch: the resume
makes every file agree with the checkpoint it resumes from
(`agree_with_checkpoint`: the CSV rows of later epochs are dropped, a best
model of a lost epoch is dropped, one of a kept epoch takes its place). A
folder that
cannot be written (read-only, full) is a `ConfigError` naming it
(`output_errors`).
"""

import contextlib
import csv
import errno
import io
import json
import os
import pathlib
import shutil
import tempfile
import time

from lficam_tf.training.config import RESUME_IGNORED, ConfigError, TrainConfig

try:
    import fcntl
except ImportError:  # Windows: no lock, resuming still works.
    fcntl = None

#: Where runs go when no output folder is given (relative to the working dir).
RUNS_ROOT = "runs"


class RunDir:
    """Paths of a run's output folder; see the module docstring."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config = self.path / "config.json"
        self.checkpoints = self.path / "checkpoints"
        self.wall_seconds = self.checkpoints / "wall_seconds.json"
        self.best_model = self.path / "best.keras"
        self.best_state = self.path / "best.json"
        # A new best, until its epoch's checkpoint is written.
        self.pending_best_model = self.path / ".best.pending.keras"
        self.pending_best_state = self.path / ".best.pending.json"
        self.csv_log = self.path / "training_log.csv"
        self.tensorboard = self.path / "tensorboard"
        self.model = self.path / "model.keras"
        self.serving = self.path / "serving"
        self.attention_png = self.path / "attention.png"
        self.metrics = self.path / "metrics.json"
        self.lock = self.path / ".lock"
        # Whether `reserve_new_run` made the (empty) folder for this run.
        self.reserved = False

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"

    @property
    def finished(self):
        return self.metrics.is_file()

    @property
    def started(self):
        return self.config.is_file()

    def saved_config(self):
        """The `TrainConfig` in config.json."""
        try:
            return TrainConfig.from_json(self.config.read_text())
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"{self.config} is not a readable training configuration ({error}). "
                "Choose another --output-dir, or delete that folder."
            ) from None


def atomic_write_text(path, text):
    """Write `text` to `path` through a temporary file and a rename."""
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it to `path` on success.

    The temporary name keeps the suffix (Keras checks `.keras`, matplotlib
    picks the format from it) and starts with a dot, so it is never mistaken
    for the finished file.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = pathlib.Path(name)
    try:
        yield tmp
        if tmp.is_file():  # mkstemp makes it private; use the usual mode.
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_save_model(model, path):
    """`model.save(path)`, atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)


class RunLock:
    """An exclusive lock on a run folder while a process trains in it.

    Uses `fcntl.flock`, which the operating system releases when the process
    dies, even by `kill -9`; so a killed run's folder is free to resume and a
    running one is not resumed twice.
    """

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self._file = None

    def acquire(self):
        if fcntl is None:
            return self
        self.run_dir.path.mkdir(parents=True, exist_ok=True)
        self._file = open(self.run_dir.lock, "a+")  # noqa: SIM115 (held until release)
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._file.close()
            self._file = None
            raise ConfigError(
                f"Another process is training in {self.run_dir.path} right now. "
                "Wait for it to finish, or pass another --output-dir."
            ) from None
        return self

    def release(self):
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def locked_by_other(self):
        """Whether another live process holds the lock (non-blocking probe)."""
        if fcntl is None or not self.run_dir.lock.exists():
            return False
        with open(self.run_dir.lock, "a+") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(probe, fcntl.LOCK_UN)
        return False


def _format_differences(differences):
    return "; ".join(
        f"{name}: {saved!r} in the folder, {now!r} now"
        for name, (saved, now) in differences.items()
    )


def find_unfinished_run(config, root=RUNS_ROOT):
    """The newest unfinished run under `root` with the same configuration.

    Returns a `RunDir` or None. Runs that another process is training are
    skipped.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        return None
    candidates = []
    for child in root.iterdir():
        run = RunDir(child)
        if not run.started or run.finished:
            continue
        try:
            saved = run.saved_config()
        except ConfigError:
            continue
        if saved.differences(config) or RunLock(run).locked_by_other():
            continue
        candidates.append((run.config.stat().st_mtime, run))
    return max(candidates, key=lambda item: item[0])[1] if candidates else None


def new_run_path(config, root=RUNS_ROOT):
    """A fresh `root/<preset>-<date>-<time>` path (suffixed if it exists).

    Only a name: two processes may get the same one. `reserve_new_run`
    makes it theirs.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = pathlib.Path(root) / f"{config.preset}-{stamp}"
    path, count = base, 1
    while path.exists():
        count += 1
        path = base.with_name(f"{base.name}-{count}")
    return path


def reserve_new_run(config, root=RUNS_ROOT):
    """A fresh `root/<preset>-<date>-<time>[-N]` folder, made for this run.

    The folder is created with an exclusive `mkdir`, so that two runs
    started in the same second (without `--output-dir`) get two folders:
    the second one's `mkdir` fails and it takes the next suffix. The
    `RunDir` is marked `reserved`: `train` removes the empty folder if the
    run fails before it starts.
    """
    while True:
        path = new_run_path(config, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:  # Another process took it just now.
            continue
        run = RunDir(path)
        run.reserved = True
        return run


def choose_run_dir(config):
    """Choose and check the output folder of `config`.

    Writes nothing, except the empty folder of a fresh default run
    (`reserve_new_run`), which makes its name unique.

    - `config.output_dir` given: a new or empty folder starts a run; a
      folder with an unfinished run of the same configuration resumes it;
      a different configuration, a finished run or foreign files are errors.
    - no `output_dir`: the newest unfinished run of the same configuration
      under `runs/` resumes (so rerunning a killed command continues it),
      else a fresh `runs/<preset>-<time>` folder, made empty at once.

    Returns:
        `(run_dir, resumed)`: a `RunDir` and whether it holds a run to resume.

    Raises:
        ConfigError: the folder cannot take this run (the message says why).
    """
    if config.output_dir is None:
        run = find_unfinished_run(config)
        if run is None:
            run = reserve_new_run(config)
        elif config.verbose != 0:
            print(
                f"Resuming the unfinished run in {run.path} (same configuration). "
                "Pass --output-dir to start a new run elsewhere."
            )
    else:
        run = RunDir(pathlib.Path(config.output_dir).expanduser())
    check_run_dir(run, config)
    return run, run.started


def check_run_dir(run, config):
    """Raise `ConfigError` if `run` cannot take a run of `config`."""
    path = run.path
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"`output_dir` must be a folder. Received: output_dir={str(path)!r}, "
            "which is a file. Pass another --output-dir."
        )
    if run.finished:
        raise ConfigError(
            f"`output_dir` holds a finished run ({run.metrics} exists). "
            f"Received: output_dir={str(path)!r}. Pass another --output-dir, or "
            "delete that folder to train again."
        )
    if run.started:
        differences = run.saved_config().differences(config)
        if differences:
            raise ConfigError(
                f"`output_dir` holds an unfinished run with another configuration "
                f"({_format_differences(differences)}). Received: "
                f"output_dir={str(path)!r}. Rerun with the folder's configuration "
                f"to resume it (`--resume {path}`), or pass another --output-dir."
            )
        return
    if path.is_dir() and any(p.name != ".lock" for p in path.iterdir()):
        raise ConfigError(
            f"`output_dir` must be a new or empty folder, or a run to resume. "
            f"Received: output_dir={str(path)!r}, which holds other files and no "
            "config.json. Pass another --output-dir."
        )


def resume_config(path, overrides):
    """The configuration saved in the run folder `path`, for `--resume`.

    `overrides` may repeat the saved values, or change the fields of
    `RESUME_IGNORED` (devices, threads, ...); any other change is an error.
    """
    run = RunDir(pathlib.Path(path).expanduser())
    if not run.started:
        raise ConfigError(
            f"`resume` must be a run folder with a config.json. Received: "
            f"resume={str(path)!r}. Pass the --output-dir of the run to resume."
        )
    saved = run.saved_config()
    changed = {
        name: (getattr(saved, name), value)
        for name, value in overrides.items()
        if name not in RESUME_IGNORED and getattr(saved, name, value) != value
    }
    # Compare after normalisation (e.g. image_size '64' == (64, 64)).
    if changed:
        candidate = saved.replace(**{k: v[1] for k, v in changed.items()})
        changed = saved.differences(candidate)
    if changed:
        raise ConfigError(
            f"`resume` continues the run in {run.path} with its own configuration, "
            f"but other values were given ({_format_differences(changed)}). Drop "
            "those options to resume, or start a new run with --output-dir."
        )
    ignored = {k: v for k, v in overrides.items() if k in RESUME_IGNORED}
    return saved.replace(**ignored, output_dir=str(run.path))


def remove_checkpoints(run):
    """Remove the per-epoch checkpoint once the run is finished."""
    shutil.rmtree(run.checkpoints, ignore_errors=True)


def remove_partial_files(run):
    """Remove what a killed run left half-written; call with the lock held.

    These are the temporary files of `atomic_path` (`.<name>.*.partial*`)
    and a half-exported version (`serving/.<version>.partial-*`): a kill
    skips the clean-up that an exception runs.

    Returns:
        The sorted list of paths removed.
    """
    removed = []
    for folder in (run.path, run.serving):
        if not folder.is_dir():
            continue
        for path in folder.glob(".*.partial*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return sorted(removed)


def promote_pending_best(run):
    """Make the pending best model (if any) `best.keras` / `best.json`.

    Called once the epoch of the pending best is in the checkpoint. The
    model is renamed first, then its state: after a kill in between, the
    state's rename is what is left to do (`agree_with_checkpoint` does it).
    """
    if run.pending_best_model.exists():
        os.replace(run.pending_best_model, run.best_model)
    if run.pending_best_state.exists():
        os.replace(run.pending_best_state, run.best_state)


def agree_with_checkpoint(run, epochs):
    """Make the run's files agree with a checkpoint of `epochs` epochs.

    An epoch's CSV row and best model are written before its checkpoint, so
    a kill in between leaves files of an epoch the resumed run repeats: its
    CSV row is dropped (no duplicate rows), and a pending best model of that
    epoch is deleted, while one of a checkpointed epoch takes its place
    (`promote_pending_best`). Call with the lock held, before training.

    Args:
        run: the `RunDir`.
        epochs: int. The epochs the checkpoint holds (`completed_epochs`).
    """
    try:
        pending = json.loads(run.pending_best_state.read_text())["best_epoch"]
    except (OSError, ValueError, KeyError, TypeError):
        pending = None
    if pending is not None and pending <= epochs:
        promote_pending_best(run)
    else:  # A lost epoch's best, or a model whose state was never written.
        run.pending_best_model.unlink(missing_ok=True)
        run.pending_best_state.unlink(missing_ok=True)
    try:
        text = run.csv_log.read_text()
    except FileNotFoundError:
        return
    lines = text.splitlines(keepends=True)
    if not lines:
        return
    kept = [lines[0]]
    for line in lines[1:]:
        row = next(csv.reader(io.StringIO(line)), None)
        try:
            if row and int(row[0]) < epochs:
                kept.append(line)
        except ValueError:
            continue  # A row cut short by the kill.
    if len(kept) != len(lines):
        atomic_write_text(run.csv_log, "".join(kept))


def earlier_wall_seconds(run):
    """Seconds the earlier calls of an unfinished run took (0 if none)."""
    try:
        return float(json.loads(run.wall_seconds.read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def save_wall_seconds(run, seconds):
    """Keep `seconds`, the time of the run's calls so far, for a resume."""
    atomic_write_text(run.wall_seconds, json.dumps({"seconds": seconds}) + "\n")


#: Errors of a folder that cannot take the run's files.
_FULL_OR_READ_ONLY = (errno.EROFS, errno.ENOSPC, errno.EDQUOT)
_NOT_ALLOWED = (errno.EACCES, errno.EPERM)


def _inside(path, folder):
    try:
        pathlib.Path(path).resolve().relative_to(folder.resolve())
    except (TypeError, ValueError, OSError):
        return False
    return True


@contextlib.contextmanager
def output_errors(run):
    """Raise an `OSError` of writing the run's files as a `ConfigError`.

    A read-only or full file system, or a folder the user may not write,
    ends the run with one message naming the folder (`train_tf.py` prints
    it without a traceback); other `OSError`s pass unchanged. Files are
    written atomically, so nothing is left half-written, and the same
    command resumes once there is room.
    """
    try:
        yield
    except OSError as error:
        inside = error.filename is not None and _inside(error.filename, run.path)
        if error.errno not in _FULL_OR_READ_ONLY and not (
            error.errno in _NOT_ALLOWED and inside
        ):
            raise
        where = ""
        if error.filename is not None and str(error.filename) != str(run.path):
            where = f" (writing {error.filename})"
        raise ConfigError(
            f"`output_dir` must be a folder this process can write, with free "
            f"space. Received: output_dir={str(run.path)!r}: "
            f"{error.strerror or error}{where}. Free some space or make it "
            "writable, then rerun the same command (it resumes the run), or "
            "pass another --output-dir."
        ) from error
