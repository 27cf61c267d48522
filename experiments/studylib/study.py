"""`Study`: the folders, size and data of one invocation of a script, and
where each run's folder, numbers and weights go."""

import dataclasses
import pathlib

from studylib import runtime
from studylib.cifar10_folder import unpack_cifar10
from studylib.paths import CACHE, RESULTS, RUNS, SHARED_DATA
from studylib.sizes import SIZES


class Study:
    """Folders, size and data of one invocation of a script."""

    def __init__(
        self,
        size="full",
        results=None,
        runs=None,
        cifar_dir=None,
        shared_data=None,
        figures=None,
        verbose=2,
    ):
        self.size = SIZES[size] if isinstance(size, str) else size
        self.results = pathlib.Path(results or RESULTS)
        self.runs = pathlib.Path(runs or RUNS)
        self._cifar_dir = pathlib.Path(cifar_dir) if cifar_dir else None
        self.shared_data = pathlib.Path(shared_data or SHARED_DATA)
        self.figures = pathlib.Path(figures) if figures else self.results / "figures"
        self.verbose = verbose

    @classmethod
    def from_args(cls, args):
        size = SIZES["tiny" if args.tiny else "full"]
        changes = {
            field: getattr(args, field)
            for field in (
                "cifar_epochs",
                "cifar_variant_epochs",
                "seeds",
                "variants",
                "shapes_image_size",
            )
            if getattr(args, field, None) is not None
        }
        if changes.get("variants", 2) < 2:
            raise SystemExit(
                f"--variants {changes['variants']}: stability compares pairs of "
                "models, so it needs at least 2 models per method"
            )
        return cls(
            size=dataclasses.replace(size, **changes),
            results=args.results,
            runs=args.runs,
            cifar_dir=args.cifar_dir,
            shared_data=args.shared_data,
            verbose=0 if args.quiet else 2,
        )

    def run_path(self, spec):
        return self.runs / spec.dataset / spec.name

    def run_result_path(self, spec):
        return self.results / "runs" / spec.dataset / f"{spec.name}.json"

    def run_weights_path(self, spec):
        """A finished run's final weights, committed with its numbers: the
        run folders (checkpoints, logs) are not in git, and a fresh checkout
        of the study would otherwise train every model again."""
        return self.results / "models" / spec.dataset / f"{spec.name}.weights.h5"

    def cifar_dir(self):
        """The CIFAR-10 image folder (unpacked from the tarballs once)."""
        if self._cifar_dir is None:
            self._cifar_dir = unpack_cifar10(self.shared_data, CACHE, say=self.say)
        return self._cifar_dir

    def say(self, text):
        """`text` on stdout with the time, unless quiet (`--quiet`)."""
        if self.verbose:
            runtime.say(text)
