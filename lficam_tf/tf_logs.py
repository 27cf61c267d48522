"""Load TensorFlow without the CUDA lines that are no error on a CPU machine.

A CUDA build of TensorFlow on a machine without the NVIDIA driver writes to
stderr, whatever `TF_CPP_MIN_LOG_LEVEL` says (they come before TensorFlow
reads it, or at ERROR level):

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 00:00:... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
    E0000 00:00:... cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)

The last one reads like an error, but only says that there is no GPU.
`import_tensorflow()` imports TensorFlow and lists its devices (the cuInit
call) while the process's stderr (file descriptor 2, where TensorFlow's C++
code writes) goes through a filter that drops exactly these lines, and the
cuInit one only after TensorFlow said that no driver is installed: with a
driver, a failing cuInit is a real error and is shown. Every other line is
passed on unchanged. The command lines call it once they have parsed their
flags; `import lficam_tf` imports Keras inside the same filter
(`without_no_gpu_noise`).
"""

import contextlib
import os
import re
import sys
import threading

_ABSL_PREAMBLE = re.compile(
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are "
    r"written to STDERR$"
)
_NO_DRIVER = re.compile(
    r"^I\d{4} [\d:. ]+\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers "
    r"on your machine, GPU will not be used\.$"
)
_CUINIT_FAILED = re.compile(r"^E\d{4} [\d:. ]+\d+ \S+\] failed call to cuInit: ")


class NoGpuNoise:
    """`keep(line)`: False for the lines of a machine without NVIDIA driver."""

    def __init__(self):
        self.no_driver = False

    def keep(self, line):
        line = line.rstrip("\r\n")
        if _ABSL_PREAMBLE.match(line):
            return False
        if _NO_DRIVER.match(line):
            self.no_driver = True
            return False
        return not (self.no_driver and _CUINIT_FAILED.match(line))


@contextlib.contextmanager
def filtered_stderr(keep):
    """Pass the lines written to file descriptor 2 through `keep(line)`.

    Covers C/C++ writes as well as Python's; kept lines go to the original
    stderr as they come, so a crash loses at most an unfinished line.
    """
    sys.stderr.flush()
    original = os.dup(2)
    read, write = os.pipe()
    os.dup2(write, 2)
    os.close(write)

    def pump():
        with os.fdopen(read, "rb") as pipe:
            for line in pipe:
                if keep(line.decode("utf-8", "replace")):
                    os.write(original, line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # Closes the pipe's last writer: the pump ends.
        thread.join()
        os.close(original)


@contextlib.contextmanager
def without_no_gpu_noise():
    """Run the block (`import lficam_tf`'s Keras import) without the no-GPU lines.

    When the block has imported TensorFlow (the Keras backend), its devices
    are listed inside the filter too, so that the cuInit line, which comes
    with the first device query, is dropped as well. Other backends import
    no TensorFlow here.
    """
    with filtered_stderr(NoGpuNoise().keep):
        yield
        tf = sys.modules.get("tensorflow")
        if tf is not None and hasattr(tf, "config"):
            tf.config.list_physical_devices()


def import_tensorflow():
    """Import TensorFlow and find its devices without the no-GPU noise.

    Returns:
        The `tensorflow` module.
    """
    with filtered_stderr(NoGpuNoise().keep):
        import tensorflow as tf

        tf.config.list_physical_devices()
    return tf
