"""When a run XLA-compiles its training step (`jit_compile`, default automatic)."""

import os

import pytest

from lficam_tf.training import ConfigError
from lficam_tf.training.cli import build_parser
from lficam_tf.training.model_setup import XLA_MIN_STEPS, cpu_has_avx512, use_xla
from lficam_tf.training.trainer import make_config


def test_automatic_by_default():
    assert make_config().jit_compile is None
    assert make_config("cifar").jit_compile is None


@pytest.mark.parametrize("value", [True, False])
def test_an_explicit_choice_is_kept_everywhere(value):
    config = make_config(jit_compile=value)
    for gpus in (0, 2):
        for replicas, steps in ((1, 10), (1, 10_000), (4, 10_000)):
            assert use_xla(config, replicas, steps, gpus=gpus) is value


def test_with_gpus_keras_decides():
    assert use_xla(make_config(), 1, 10_000, gpus=1) == "auto"
    assert use_xla(make_config(), 1, 1, gpus=1) == "auto"


def test_on_cpu_only_for_measured_backbones_long_single_replica_runs():
    resnet20 = make_config(backbone="cifar_resnet20")
    assert use_xla(resnet20, 1, XLA_MIN_STEPS, gpus=0, avx512=False) is True
    assert use_xla(resnet20, 1, XLA_MIN_STEPS - 1, gpus=0, avx512=False) is False
    assert use_xla(resnet20, 2, 10 * XLA_MIN_STEPS, gpus=0, avx512=False) is False
    # ResNet-110 trains 3-4x slower under XLA on this CPU kind.
    resnet110 = make_config("cifar", backbone="cifar_resnet110")
    assert use_xla(resnet110, 1, 10 * XLA_MIN_STEPS, gpus=0, avx512=False) is False


def test_never_on_a_cpu_with_avx512():
    # oneDNN's convolutions win there: XLA halved the default job's speed.
    resnet20 = make_config(backbone="cifar_resnet20")
    assert use_xla(resnet20, 1, 10 * XLA_MIN_STEPS, gpus=0, avx512=True) is False
    assert use_xla(resnet20, 1, 10, gpus=1, avx512=True) == "auto"


def test_the_default_job_trains_without_xla_on_every_cpu():
    # cifar_resnet8 with a stride-2 stem: XLA gained ~5% on an AVX2 CPU,
    # less than compiling costs (docs/PERFORMANCE.md, "The default job").
    config = make_config()  # shapes: 8,000 images, batch 64, 5 epochs: 625 steps
    steps = -(-config.num_train // config.batch_size) * config.epochs
    assert steps >= XLA_MIN_STEPS
    assert use_xla(config, 1, steps, gpus=0, avx512=False) is False
    assert use_xla(config, 1, steps, gpus=0, avx512=True) is False
    # The paper's ResNet-20 on the same data is compiled there.
    resnet20 = make_config(backbone="cifar_resnet20")
    assert use_xla(resnet20, 1, steps, gpus=0, avx512=False) is True


def test_avx512_is_read_from_the_cpu_flags():
    if not os.path.exists("/proc/cpuinfo"):
        pytest.skip("no /proc/cpuinfo on this system (not Linux)")
    with open("/proc/cpuinfo") as file:
        flags = next((line for line in file if line.startswith("flags")), "")
    assert cpu_has_avx512() is ("avx512f" in flags.split())


@pytest.mark.parametrize("value", [1, 0, "yes", "auto"])
def test_values_other_than_true_false_none_are_refused(value):
    with pytest.raises(ConfigError, match="jit_compile.*True, False or None"):
        make_config(jit_compile=value)


@pytest.mark.parametrize(
    "flags, expected",
    [([], None), (["--jit-compile"], True), (["--no-jit-compile"], False)],
)
def test_flags(flags, expected):
    overrides = vars(build_parser().parse_args(flags))
    assert make_config(**overrides).jit_compile is expected
