"""`ConfigError`, the one error of a training configuration that cannot run,
and `TrainingDiverged`, the error of a run whose loss turned inf or NaN.

Their own module, so that the configuration (`config`), its rules
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


@lficam_export("lficam_tf.training.TrainingDiverged")
class TrainingDiverged(RuntimeError):
    """The training loss turned inf or NaN; the message says what to try.

    Raised from the batch where it happened, before the epoch's checkpoint,
    logs and best model are written: the run's folder keeps the checkpoint
    of the last good epoch, and nothing is exported. `train_tf.py` prints
    it without a traceback and exits with status 1.

    Attributes:
        epoch: int, the 1-based epoch whose loss turned non-finite.
    """

    def __init__(self, message, epoch=None):
        super().__init__(message)
        self.epoch = epoch
