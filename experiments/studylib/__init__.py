"""What the experiment scripts share: the study as data, its data, runs,
results and figures, one module per concern.

The study (experiments/README.md) trains every model once, in a run folder
named after the model (`<runs>/<dataset>/<head>-<variant>`), with
`lficam_tf.training.train`. A finished run (its `metrics.json` exists) is
skipped; an unfinished one (killed) is resumed by the same call, from its
last epoch (`lficam_tf.training.run_dir`). Each finished run writes its
numbers at once to `<results>/runs/<dataset>/<run>.json`, and each script
writes its own `<results>/<experiment>.json`, so that an interrupted study
loses at most the epoch in flight and its results can be committed as they
land.

Modules (every public name is also importable from `studylib` itself):

- `sizes`: how big the study is (`SIZES`: `full`, the study; `tiny`, every
  script end to end in seconds, the tests);
- `recipes`: `Variant`, a model's changes to its dataset's base recipe;
- `datasets`: the study's datasets as data (`StudyDataset`, looked up with
  `get_dataset`): base recipe, variants, class names, where the images come
  from, epochs and images per size; the fixed test images (`test_images`);
- `runs`: the models of the study (`RunSpec`: name, `TrainConfig`) and the
  specs each experiment trains;
- `study`: `Study`, the folders, size and data of one invocation;
- `cli`: the options every script takes, and back to flags;
- `trained_runs`: a run trained or resumed, its record, weights and final
  model (through `lficam_tf.training`'s `train`, `load_run`,
  `build_run_model`);
- `evaluation_report`: every method scored on a dataset's three models;
- `cifar10_folder`: the CIFAR-10 image folder, unpacked once, a model's
  accuracy on its files;
- `results_io`: JSON, figures and the marked blocks of Markdown files;
- `provenance`: the header of every experiment JSON (command, machine);
- `stats`: mean and spread; `runtime`: progress lines, TensorFlow threads;
- `paths`: the checkout, results, runs, shared data and cache folders.
"""

from studylib.cifar10_folder import folder_accuracy, slice_files, unpack_cifar10
from studylib.cli import add_common_arguments, common_argv
from studylib.datasets import (
    BASE_RECIPES,
    DATASETS,
    PAPER_STABILITY,
    STUDY_DATASETS,
    VARIANTS,
    DatasetSize,
    StudyDataset,
    get_dataset,
    test_images,
)
from studylib.evaluation_report import PRIMARY_ROWS, evaluation_report, metric_rows
from studylib.paths import CACHE, HERE, REPO, RESULTS, RUNS, SHARED_DATA, rel
from studylib.provenance import command_line, header, machine
from studylib.recipes import Variant
from studylib.results_io import (
    STAMP_FIELDS,
    read_json,
    replace_block,
    save_figure,
    update_file_block,
    write_json,
)
from studylib.runs import HEAD_TITLES, RunSpec, evaluation_specs, variant_specs
from studylib.runtime import configure_threads
from studylib.sizes import SIZES, Size
from studylib.stats import mean_std
from studylib.study import Study
from studylib.trained_runs import (
    ensure_trained,
    load_run_model,
    run_record,
    save_model_weights,
)
