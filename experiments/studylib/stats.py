"""Summary statistics of the study's tables."""


def mean_std(values):
    """`(mean, sample standard deviation or None for one value)`."""
    import numpy as np

    values = np.asarray(values, float)
    if not len(values):
        return None, None
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return float(np.mean(values)), std
