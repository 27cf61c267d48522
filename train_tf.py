"""Train an LFI-CAM model: `python train_tf.py --help` lists every flag.

With no flags, trains a small LFI-CAM on the built-in "shapes" dataset and
writes the model, its TF Serving export, attention maps and metrics to a new
folder under runs/. The work is done by `lficam_tf.training.train`; this
script only parses the flags (`lficam_tf.training.cli`).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lficam_tf.training.cli import main

if __name__ == "__main__":
    sys.exit(main())
