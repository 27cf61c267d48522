"""Where and how each result was computed: the header of every experiment
JSON (the command, the machine, the time)."""

import contextlib
import datetime
import os
import pathlib
import platform
import sys
import time

from studylib.paths import HERE


def machine():
    """A description of the machine the numbers were measured on."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    return {
        "cpu": cpu,
        "cores": cores,
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def command_line():
    """The command that is running, as typed (relative to the repository)."""
    script = pathlib.Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        script = script.resolve().relative_to(HERE.parent)
    return " ".join(["python", str(script), *sys.argv[1:]])


def header(study, experiment, started):
    """The fields every experiment JSON starts with."""
    return {
        "experiment": experiment,
        "size": study.size.name,
        "command": command_line(),
        "machine": machine(),
        "updated": datetime.datetime.now().isoformat(timespec="seconds"),
        "script_seconds": time.perf_counter() - started,
    }
