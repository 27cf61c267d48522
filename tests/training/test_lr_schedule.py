"""The step schedule switches where PyTorch's MultiStepLR does (the authors'
recipe): update n uses lr * decay ** (number of milestones m with
n >= m * steps_per_epoch), n counted from 0."""

import numpy as np

from lficam_tf.training import make_config
from lficam_tf.training.model_setup import make_optimizer


def _pytorch_multisteplr(lr, decay, milestones, steps_per_epoch, updates):
    # MultiStepLR steps once per epoch: epoch e trains at
    # lr * decay ** #{m in milestones : m <= e}.
    epochs = np.arange(updates) // steps_per_epoch
    passed = (epochs[:, None] >= np.asarray(milestones)[None, :]).sum(1)
    return lr * decay**passed


def test_step_schedule_matches_multisteplr_update_by_update():
    config = make_config(
        "shapes",
        optimizer="sgd",
        learning_rate=0.1,
        schedule="step",
        lr_steps="2,3",
        warmup_epochs=0,
        epochs=4,
        weight_decay_mode="coupled",
    )
    steps = 5
    schedule = make_optimizer(config, steps)._learning_rate
    ours = np.array([float(schedule(n)) for n in range(4 * steps)])
    expected = _pytorch_multisteplr(0.1, config.lr_decay, (2, 3), steps, 4 * steps)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    # The switch is at the first update of epoch 2 (update 10), not one later.
    assert ours[9] > ours[10]
