"""Training under `MultiWorkerMirroredStrategy` with a custom loop.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` (it cannot
convert the strategy's per-replica batches: keras-team/keras#20585). This
loop does what `fit` would, with the same parts:

- the same compiled model: each step is `strategy.run(model.train_step)`,
  Keras' own step (forward pass, `compute_loss` with the compiled loss,
  loss scaling under mixed precision, the optimizer's all-reduced update,
  the compiled metrics);
- the same callbacks, driven through `keras.callbacks.CallbackList`
  (progress bar, CSV log, TensorBoard, best model, and `BackupAndRestore`
  for the per-epoch checkpoint, which every worker restores from and only
  the chief writes);
- the same data: every worker builds the same pipeline and the strategy
  shards it by element (`AutoShardPolicy.DATA`) and splits each global batch
  over the replicas.

Workers stay identical: gradients are all-reduced, and batch normalisation
is synchronised across replicas (its moving statistics would otherwise
drift apart per worker); `tests/training/test_distributed.py` checks that
two workers end with the same weights.
"""

import keras
import numpy as np
import tensorflow as tf

from lficam_tf.models import outputs as model_outputs
from lficam_tf.training.callbacks import accuracy_key


def distribute_by_data(dataset):
    """`dataset` with element-wise auto-sharding (for in-memory sources)."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.with_options(options)


def _numpy_logs(logs):
    return {key: float(np.asarray(value)) for key, value in logs.items()}


def evaluate_locally(model, dataset, losses, accuracy_name):
    """Test loss and accuracy of `model` on `dataset`, on this worker alone.

    Every worker evaluates the whole test set with its (identical) weights,
    so evaluation needs no collective operation and gives the same numbers
    everywhere.

    Args:
        model: the trained classifier.
        dataset: batched `(images, labels)`, labels int or one-hot.
        losses: dict `{output name: keras loss}`, the compiled losses.
        accuracy_name: the key of the accuracy in the training logs
            (`"logits_accuracy"` or `"accuracy"`).

    Returns:
        `{"val_loss": float, "val_<accuracy_name>": float}`.
    """

    @tf.function
    def step(images, labels):
        outputs = model(images, training=False)
        loss = tf.add_n(
            [
                tf.cast(fn(labels, outputs[name]), tf.float32)
                for name, fn in losses.items()
            ]
        )
        predicted = tf.argmax(
            model_outputs.logits(outputs), axis=-1, output_type=tf.int32
        )
        if labels.shape.rank == 2:
            labels = tf.argmax(labels, axis=-1, output_type=tf.int32)
        correct = tf.reduce_sum(
            tf.cast(predicted == tf.cast(labels, tf.int32), tf.float32)
        )
        count = tf.cast(tf.shape(images)[0], tf.float32)
        return loss * count, correct, count

    total_loss = total_correct = total_count = 0.0
    for images, labels in dataset:
        loss, correct, count = step(images, labels)
        total_loss += float(loss)
        total_correct += float(correct)
        total_count += float(count)
    return {
        "val_loss": total_loss / total_count,
        f"val_{accuracy_name}": total_correct / total_count,
    }


def fit_multi_worker(
    model,
    strategy,
    train_dataset,
    test_dataset,
    epochs,
    steps_per_epoch,
    callbacks,
    losses,
    verbose=1,
):
    """`model.fit` for `MultiWorkerMirroredStrategy`; see the module docstring.

    Args:
        model: compiled under `strategy.scope()`.
        strategy: the `tf.distribute.MultiWorkerMirroredStrategy`.
        train_dataset: batched with the global batch size (drop the
            remainder: every worker must run the same number of steps).
        test_dataset: batched test data, evaluated locally per worker.
        epochs: int. Train up to this epoch.
        steps_per_epoch: int.
        callbacks: list of Keras callbacks (chief: all; other workers: a
            `BackupAndRestore` that only restores).
        losses: dict of the compiled losses, for evaluation.
        verbose: 0, 1, 2 or "auto". Defaults to `1`.

    Returns:
        The `keras.callbacks.History` of the run.
    """
    distributed = strategy.experimental_distribute_dataset(
        distribute_by_data(train_dataset.repeat())
    )

    @tf.function
    def train_step(iterator):
        strategy.run(model.train_step, args=(next(iterator),))
        # Read in cross-replica context: the metrics' variables are summed
        # over all replicas of all workers, so the logs are global.
        return model.get_metrics_result()

    history = keras.callbacks.History()
    callback_list = keras.callbacks.CallbackList(
        list(callbacks) + [history],
        add_progbar=verbose != 0,
        model=model,
        verbose=1 if verbose == "auto" else verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    # BackupAndRestore restores the weights, the optimizer and this epoch.
    initial_epoch = getattr(model, "_initial_epoch", None) or 0
    iterator = iter(distributed)
    accuracy_name = None
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            logs = _numpy_logs(train_step(iterator))
            callback_list.on_train_batch_end(step, logs)
        accuracy_name = (
            accuracy_name or accuracy_key(logs, validation=False) or "accuracy"
        )
        logs = dict(logs)
        logs.update(evaluate_locally(model, test_dataset, losses, accuracy_name))
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return history
