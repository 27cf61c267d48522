"""The model code is keras.ops only: the same weights give the same outputs on JAX."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lficam_tf


@pytest.mark.slow
def test_lficam_model_runs_on_jax_without_tensorflow(tmp_path):
    model = lficam_tf.build_model("cifar_resnet20", 10)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    model.save_weights(tmp_path / "model.weights.h5")
    np.save(tmp_path / "images.npy", images)
    expected = {k: np.asarray(v) for k, v in model(images).items()}
    code = textwrap.dedent(
        f"""
        import json, sys
        import numpy as np
        import keras, lficam_tf
        model = lficam_tf.build_model("cifar_resnet20", 10)
        model.load_weights({str(tmp_path / "model.weights.h5")!r})
        out = model(np.load({str(tmp_path / "images.npy")!r}))
        print(json.dumps({{
            "backend": keras.backend.backend(),
            "tensorflow_imported": "tensorflow" in sys.modules,
            "outputs": {{k: np.asarray(v).tolist() for k, v in out.items()}},
        }}))
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert got["backend"] == "jax"
    assert not got["tensorflow_imported"]
    for name, value in expected.items():
        np.testing.assert_allclose(
            np.asarray(got["outputs"][name]), value, rtol=1e-4, atol=1e-4
        )
