"""lficam_tf: CNN classifiers that explain themselves (LFI-CAM), in Keras 3."""

import pathlib

from setuptools import find_packages, setup

README = pathlib.Path(__file__).with_name("README.md")

setup(
    name="lficam_tf",
    version="0.1.0",
    description="LFI-CAM for Keras: classifiers whose attention map is their explanation",
    long_description=README.read_text() if README.exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["lficam_tf", "lficam_tf.*"]),
    # The trained classifiers of weights="cifar10" (experiments/ship_checkpoints.py).
    package_data={"lficam_tf": ["weights/*.weights.h5", "weights/manifest.json"]},
    py_modules=["train_tf"],
    # `tensorflow` runs on the CPU as well; GPU users add `tensorflow[and-cuda]`.
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.5",
        "tensorflow-datasets>=4.9",
        "keras-cv>=0.9",
        "numpy>=1.26",
        "matplotlib>=3.8",
        "pillow>=10",
        "scipy>=1.10",  # ROAD's sparse imputation (lficam_tf.metrics.road)
        "tensorboard>=2.16",
    ],
    extras_require={
        "test": [
            "pytest>=8",
            # Two test processes (the README's `-n 2`): most of a test's time is
            # single-threaded tracing, so two halve the suite on two cores.
            "pytest-xdist>=3.5",
            "nbformat>=5.9",
            "nbclient>=0.10",
            "ipykernel>=6",
            "tensorflow-serving-api>=2.16",
            # Proves the layers and models are backend-agnostic (keras.ops only).
            "jax[cpu]>=0.4.30",
            # Lint and format (ruff.toml; .ci/run checks the tree). Pinned to
            # one minor release: the formatter's style changes between them.
            "ruff>=0.17,<0.18",
        ],
    },
    entry_points={
        "console_scripts": [
            "lficam-train = lficam_tf.training.cli:main",
            "lficam-explain = lficam_tf.explain.cli:main",
            "lficam-eval = lficam_tf.evaluation.cli:main",
        ]
    },
    license="MIT",
)
