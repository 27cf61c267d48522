"""`ConfigError`, the one error of a training configuration that cannot run.

Its own module, so that the configuration (`config`), its rules
(`config_rules`) and the recipes (`presets`) all import it without
importing each other.
"""

from lficam_tf.api_export import lficam_export


@lficam_export("lficam_tf.training.ConfigError")
class ConfigError(ValueError):
    """A training configuration that cannot run; the message says the fix.

    A `ValueError`, so that code catching bad arguments catches it too;
    `train_tf.py` prints it without a traceback and exits with status 2.
    """
