"""Progress of long explanations, reported from inside a `tf.function`.

**TensorFlow-specific module** (`tf.py_function`). Score-CAM runs one
forward pass per channel and image: 2,048 passes of ResNet-50 for one
224x224 image, minutes on a CPU. Its loop runs in a `tf.while_loop`, so
Python sees nothing until the batch is done; `GraphProgress.tick` is a
graph op that calls back into Python after each chunk, and a Keras
`Progbar` (done / total, rate, ETA) appears once a call has run longer
than `after_seconds`, so quick calls (CIFAR models) stay silent.
"""

import time

import keras
import tensorflow as tf


class GraphProgress:
    """A progress bar for a loop inside a traced function.

    Args:
        verbose: `"auto"` (show a bar once a call has run `after_seconds`),
            `True` (always) or `False` (never).
        unit: str. What one step is, for the bar (e.g. `"chunk"`).
        after_seconds: float. `"auto"`: the delay before a bar appears.
            Defaults to `2.0`.

    Usage, inside the traced function (each returns its input, so that
    the loop's counter carries the callback as a dependency):

        start = progress.tick(0, total)           # before the loop
        ...body: next_i = progress.tick(i + 1, total)
    """

    VERBOSE = ("auto", True, False)

    def __init__(self, verbose="auto", unit="step", after_seconds=2.0):
        if verbose not in self.VERBOSE:
            raise ValueError(
                f"`verbose` must be one of {self.VERBOSE}: 'auto' shows progress "
                f"once a call runs longer than {after_seconds:g} s. Received: "
                f"verbose={verbose!r}"
            )
        self.verbose = verbose
        self.unit = unit
        self.after_seconds = after_seconds
        self._started = None
        self._bar = None
        self._showing = False

    def _report(self, done, total):
        done, total = int(done), int(total)
        if done == 0:
            # A new call: the bar's clock (for rate and ETA) starts now; it
            # prints nothing until its first update.
            self._started = time.perf_counter()
            self._bar = keras.utils.Progbar(total, unit_name=self.unit)
            self._showing = self.verbose is True
            return done
        if not self._showing:
            elapsed = time.perf_counter() - self._started
            self._showing = elapsed >= self.after_seconds and done < total
        if self._showing:
            self._bar.update(done, finalize=done >= total)
        return done

    def tick(self, done, total):
        """A graph op: report `done` of `total` steps; returns `done` (int32)."""
        if self.verbose is False:
            return tf.convert_to_tensor(done, tf.int32)
        out = tf.py_function(
            lambda d, t: self._report(d.numpy(), t.numpy()),
            [done, total],
            tf.int32,
        )
        out.set_shape(())
        return out
