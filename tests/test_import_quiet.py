"""`import lficam_tf` on a machine without a GPU prints none of TensorFlow's
no-GPU lines ("failed call to cuInit: ... CUDA error" reads like a failure)."""

import os
import pathlib
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]


def test_import_prints_no_gpu_noise():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", "import lficam_tf; print(lficam_tf.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.strip() == str(REPO / "lficam_tf" / "__init__.py")
    for noise in ("absl::InitializeLog", "cudart_stub", "cuInit"):
        assert noise not in done.stderr, done.stderr
