"""The options every experiment script takes (`add_common_arguments`), and
the same options given back as flags for another script (`common_argv`:
run_study.py passes them on to each step)."""

import argparse

from studylib.paths import CACHE, REPO, RESULTS, RUNS, SHARED_DATA
from studylib.sizes import SIZES


def add_common_arguments(parser):
    """The options every experiment script takes."""
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a few images, one epoch: runs end to end in seconds (tests)",
    )
    parser.add_argument(
        "--results",
        metavar="DIR",
        help=f"where the JSON results go (default: {RESULTS.relative_to(REPO)})",
    )
    parser.add_argument(
        "--runs",
        metavar="DIR",
        help=f"training run folders (default: {RUNS.relative_to(REPO)}, not committed)",
    )
    parser.add_argument(
        "--cifar-dir",
        metavar="DIR",
        help="a CIFAR-10 image folder with train/ and test/ (default: the "
        f"shared tarballs unpacked once into {CACHE}/cifar10_jpeg)",
    )
    parser.add_argument(
        "--shared-data",
        metavar="DIR",
        help=f"folder of the CIFAR-10 tarballs (default: {SHARED_DATA})",
    )
    # The defaults shown are the sizes' own, so that the help cannot go stale.
    full, tiny = SIZES["full"], SIZES["tiny"]
    parser.add_argument(
        "--cifar-epochs",
        type=int,
        metavar="N",
        help="epochs of the CIFAR-10 accuracy runs (default: "
        f"{full.cifar_epochs}; --tiny: {tiny.cifar_epochs})",
    )
    parser.add_argument(
        "--cifar-variant-epochs",
        type=int,
        metavar="N",
        help="epochs of the other CIFAR-10 stability models (default: "
        f"{full.cifar_variant_epochs}; --tiny: {tiny.cifar_variant_epochs}); "
        "the epochs are part of each run's name",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help=f"seeds per head of the accuracy runs (default: {full.seeds}; "
        f"--tiny: {tiny.seeds})",
    )
    parser.add_argument(
        "--variants",
        type=int,
        metavar="N",
        help=f"models per method in the stability study (default: "
        f"{full.variants}; --tiny: {tiny.variants}); fewer gives an interim "
        "result from the first N, which a later run with the default recomputes",
    )
    parser.add_argument(
        "--shapes-image-size",
        type=int,
        metavar="S",
        help="input size of the shapes models (default: 64, the preset's; "
        "32 trains about 4x faster; --tiny: 32); part of each run's name",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def common_argv(args):
    """The command-line flags of `args`' common options, for another script.

    The inverse of `add_common_arguments`: every option it declares and
    `args` sets is given back as its flag, so that a script running the
    others (`run_study.py`) passes all of them on, including ones added
    later.
    """
    argv = []
    for action in add_common_arguments(argparse.ArgumentParser())._actions:
        if not action.option_strings or action.dest == "help":
            continue
        value = getattr(args, action.dest, None)
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            argv += [flag] if value else []
        elif value is not None:
            argv += [flag, str(value)]
    return argv
