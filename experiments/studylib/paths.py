"""Where the study reads and writes: the checkout, results, runs, data.

The results, `docs/RESULTS.md`, the README and the shipped weights go into
this checkout, or, under `study_bg.sh`, into the one whose frozen copy of
the code runs (it sets `LFICAM_STUDY_REPO`).
"""

import contextlib
import os
import pathlib

#: The experiments folder (the scripts and this package).
HERE = pathlib.Path(__file__).resolve().parents[1]
#: The checkout the study writes into (results, docs/RESULTS.md, README,
#: shipped weights): this one, or the one whose code `study_bg.sh` runs a
#: frozen copy of (it sets LFICAM_STUDY_REPO).
REPO = pathlib.Path(os.environ.get("LFICAM_STUDY_REPO") or HERE.parent).resolve()
#: The shared CIFAR-10 tarballs (../shared/data, see its README).
SHARED_DATA = REPO.parent / "shared" / "data"
#: Results written by the scripts, committed with the repository.
RESULTS = REPO / "experiments" / "results"
#: Training run folders (large: models, checkpoints, exports; not committed).
RUNS = REPO / "experiments" / "runs"
#: Where the CIFAR-10 tarballs are unpacked (outside the repository).
CACHE = pathlib.Path(
    os.environ.get("LFICAM_DATA_CACHE", pathlib.Path.home() / ".cache" / "lficam_tf")
)


def rel(path):
    """`path` relative to the repository when inside it (for the JSON)."""
    path = pathlib.Path(path)
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(REPO))
    return str(path)
