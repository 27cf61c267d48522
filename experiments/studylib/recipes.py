"""A training recipe of the study: the changes a model makes to its
dataset's base recipe (`studylib.datasets`)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Variant:
    """One training recipe: the changes to the dataset's base recipe."""

    name: str
    seed: int
    learning_rate: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None

    def overrides(self):
        values = {"seed": self.seed}
        for key in ("learning_rate", "weight_decay", "batch_size"):
            if getattr(self, key) is not None:
                values[key] = getattr(self, key)
        return values
