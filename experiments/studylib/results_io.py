"""Files the study writes: JSON (atomic, kept when only its time stamps
would change), figures, and the marked blocks of Markdown files
(`docs/RESULTS.md`, the README's table of shipped checkpoints)."""

import json
import pathlib

#: Fields of `header` that change on every call of a script, results or not.
STAMP_FIELDS = ("updated", "script_seconds")


def write_json(path, data):
    """Write `data` as JSON, atomically (a killed write leaves the old file).

    A file whose content differs from `data` only in `STAMP_FIELDS` is left
    as it is: a rerun that finds every run finished (a resumed study) then
    leaves no change to commit, and the file keeps the time of the call that
    computed it."""
    from lficam_tf.training.run_dir import atomic_write_text

    text = json.dumps(data, indent=2, default=_jsonable) + "\n"
    old = read_json(path)
    if old is not None:
        new = json.loads(text)
        for record in (old, new):
            for field in STAMP_FIELDS:
                record.pop(field, None)
        if old == new:
            return
    atomic_write_text(path, text)


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def read_json(path):
    path = pathlib.Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def save_figure(figure, path):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    return path


def replace_block(text, name, content):
    """`text` with the lines between `<!-- name:begin -->` and
    `<!-- name:end -->` replaced by `content`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise ValueError(f"markers {begin} / {end} are missing")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content.strip()}\n{end}{tail}"


def update_file_block(path, name, content):
    path = pathlib.Path(path)
    from lficam_tf.training.run_dir import atomic_write_text

    atomic_write_text(path, replace_block(path.read_text(), name, content))
