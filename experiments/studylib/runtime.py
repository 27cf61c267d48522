"""The scripts' process: progress lines on stdout, TensorFlow's threads."""

import time


def say(text):
    """Print `text` after the time of day, at once (the study's log)."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def configure_threads():
    """TensorFlow's thread pools as training sets them, before any TF op."""
    from lficam_tf.training import configure_threads as configure

    configure("auto")
