"""The bottleneck FIN and each backbone's default width (issue 20).

The paper's FIN is four K -> K 3x3 convolutions; backbones with more than 256
feature channels get a bottleneck FIN of width `scaled_fin_width(K)` by
default, and `fin_width=None` keeps the paper's. Checked here: the forward
pass against numpy, each backbone's default against the README's table, the
paper's exact parameter count, and that saved models of either kind reload
with the same outputs (also a model saved before the bottleneck existed).
"""

import json
import pathlib
import re
import zipfile

import keras
import lficam_numpy as ref
import numpy as np
import pytest

import lficam_tf
from lficam_tf.backbones import get_backbone_spec, list_backbones
from lficam_tf.layers import FeatureImportanceNetwork, scaled_fin_width
from lficam_tf.training import make_config
from lficam_tf.training.cli import build_parser

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _readme_rows():
    """The README's table of FIN widths: `[(names, K, width or None, paper
    FIN weights, default FIN weights)]` as written."""
    text = README.read_text()
    block = text.split("<!-- fin-widths:begin -->")[1].split("<!-- fin-widths:end -->")[
        0
    ]
    rows = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not cells[1].isdigit():
            continue
        names = [name.strip().strip("`") for name in cells[0].split(",")]
        width = None if cells[2].startswith("K") else int(cells[2])
        rows.append((names, int(cells[1]), width, cells[3], cells[4]))
    return rows


def _readme_widths():
    """`{backbone: (K, width or None)}` from the README's table."""
    return {
        name: (channels, width)
        for names, channels, width, _, _ in _readme_rows()
        for name in names
    }


def test_readme_fin_weight_counts_follow_the_formulas():
    for names, k, width, paper, default in _readme_rows():
        # The paper's FIN: 4 x 9 x K^2; the bottleneck: 2 K W + 2 x 9 x W^2.
        assert paper == f"{36 * k * k / 1e6:.2f} M", names
        if width is None:
            assert default == paper, names
        else:
            assert default == f"{(2 * k * width + 18 * width * width) / 1e6:.3f} M", (
                names
            )


def test_readme_states_the_default_width_of_every_backbone():
    stated = _readme_widths()
    assert sorted(stated) == sorted(list_backbones())
    for name, (channels, width) in stated.items():
        spec = get_backbone_spec(name)
        assert spec.channels == channels, name
        assert spec.fin_width == width, name


def test_the_width_rule():
    # The paper's FIN up to 256 channels, K / 16 (at least 64) above.
    assert [
        scaled_fin_width(k) for k in (64, 256, 257, 342, 512, 1024, 1280, 2048)
    ] == [None, None, 64, 64, 64, 64, 80, 128]
    for name in list_backbones("cifar_*"):
        assert get_backbone_spec(name).fin_width is None, name


@pytest.mark.parametrize("backbone", ["resnet18", "mobilenetv2", "densenet121"])
def test_built_model_has_the_stated_default(backbone):
    model = lficam_tf.build_model(backbone, 3, input_shape=(64, 64, 3))
    fin = model.get_layer("feature_importance")
    channels, width = _readme_widths()[backbone]
    assert fin.width == width == model.fin_width
    shapes = [tuple(c.kernel.shape) for c in fin.convs]
    assert shapes == [
        (1, 1, channels, width),
        (3, 3, width, width),
        (3, 3, width, width),
        (1, 1, width, channels),
    ]
    # 2 K W + 18 W^2 kernel weights, 4 BNs with scale, offset and moving statistics.
    expected = 2 * channels * width + 18 * width**2 + 4 * (3 * width + channels)
    assert fin.count_params() == expected


def test_user_model_gets_the_same_rule():
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(320, 3, strides=8, padding="same", name="wide")(inputs)
    wide = keras.Model(inputs, x)
    fin = lficam_tf.build_model(wide, 2).get_layer("feature_importance")
    assert fin.width == 64
    assert (
        lficam_tf.build_model(wide, 2, fin_width=None)
        .get_layer("feature_importance")
        .width
        is None
    )


@pytest.mark.slow
def test_paper_fin_keeps_its_exact_parameter_count_on_resnet50():
    model = lficam_tf.build_model(
        "resnet50", 10, input_shape=(64, 64, 3), fin_width=None
    )
    fin = model.get_layer("feature_importance")
    k = 2048
    # METHOD.md section 3: 4 * 9 * K^2 = 150,994,944 kernel weights, + BN scale and offset.
    trainable = sum(int(np.prod(w.shape)) for w in fin.trainable_weights)
    assert trainable == 4 * 9 * k * k + 4 * 2 * k == 151_011_328
    assert all(tuple(c.kernel.shape) == (3, 3, k, k) for c in fin.convs)
    default = lficam_tf.build_model("resnet50", 10, input_shape=(64, 64, 3))
    added = (
        default.count_params()
        / lficam_tf.build_model(
            "resnet50", 10, input_shape=(64, 64, 3), head="baseline"
        ).count_params()
    )
    # The bar: at most 20 % more parameters than the baseline head.
    assert added - 1 < 0.2


def _random_fin_weights(fin, rng):
    for conv, norm in zip(fin.convs, fin.norms):
        conv.kernel.assign(rng.normal(0, 0.4, conv.kernel.shape).astype("float32"))
        channels = norm.gamma.shape[0]
        norm.gamma.assign(rng.uniform(0.5, 1.5, channels).astype("float32"))
        norm.beta.assign(rng.normal(0, 0.2, channels).astype("float32"))
        norm.moving_mean.assign(rng.normal(0, 0.2, channels).astype("float32"))
        norm.moving_variance.assign(rng.uniform(0.5, 2, channels).astype("float32"))


@pytest.mark.parametrize("relu", ["paired", "every"])
def test_bottleneck_fin_matches_numpy(relu):
    rng = np.random.default_rng(0)
    F = np.maximum(rng.normal(0.3, 1.0, (2, 5, 4, 12)), 0).astype("float32")
    images = rng.uniform(-2, 2, (2, 20, 16, 3)).astype("float32")
    fin = FeatureImportanceNetwork(depth=4, relu=relu, width=3)
    fin(F, images)
    _random_fin_weights(fin, rng)
    got = keras.ops.convert_to_numpy(fin(F, images, training=False))
    kernels = [keras.ops.convert_to_numpy(c.kernel) for c in fin.convs]
    bns = [
        tuple(
            keras.ops.convert_to_numpy(v)
            for v in (n.gamma, n.beta, n.moving_mean, n.moving_variance)
        )
        for n in fin.norms
    ]
    assert [k.shape[:2] for k in kernels] == [(1, 1), (3, 3), (3, 3), (1, 1)]
    expected = ref.fin(F.astype("float64"), images, kernels, bns, relu=relu)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("fin_width", [None, 8])
def test_saved_model_of_either_kind_reloads_with_the_same_outputs(tmp_path, fin_width):
    model = lficam_tf.build_model("cifar_resnet20", 4, fin_width=fin_width)
    _random_fin_weights(model.get_layer("feature_importance"), np.random.default_rng(1))
    images = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_layer("feature_importance").width == fin_width
    before, after = model(images), loaded(images)
    for key in ("logits", "attention", "importance"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(after[key]),
            keras.ops.convert_to_numpy(before[key]),
            rtol=1e-5,
            atol=1e-6,
        )


def test_model_saved_before_the_bottleneck_loads_as_it_was(tmp_path):
    """lficam_tf 0.2 wrote no `fin_bottleneck`: its narrow FIN was 3x3."""
    legacy = lficam_tf.models.LFICAMClassifier(
        lficam_tf.build_model("cifar_resnet20", 4, head="baseline").backbone,
        4,
        fin_width=8,
        fin_bottleneck=False,
    )
    path = tmp_path / "old.keras"
    legacy.save(path)
    # Rewrite the archive as 0.2 wrote it: the same config without the new keys.
    old = tmp_path / "v02.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                text = data.decode()
                config = json.loads(text)
                config["config"].pop("fin_bottleneck")
                text = json.dumps(config)
                text = re.sub(r', "bottleneck": false', "", text)
                assert "bottleneck" not in text
                data = text.encode()
            dst.writestr(item, data)
    loaded = keras.saving.load_model(old)
    shapes = [
        tuple(c.kernel.shape) for c in loaded.get_layer("feature_importance").convs
    ]
    assert shapes[0] == (3, 3, 64, 8) and shapes[-1] == (3, 3, 8, 64)


def test_fin_width_flag_and_config():
    parse = build_parser().parse_args
    assert parse(["--fin-width", "16"]).fin_width == 16
    assert parse(["--fin-width", "none"]).fin_width is None
    assert parse(["--fin-width", "auto"]).fin_width == "auto"
    assert make_config("shapes").fin_width == "auto"
    with pytest.raises(
        ValueError, match=r"`fin_width` must be an int >= 1 or None .* or 'auto'"
    ):
        make_config("shapes", fin_width="wide")


def test_non_default_width_refused_on_other_heads():
    with pytest.raises(ValueError, match="apply to head='lficam' only"):
        lficam_tf.build_model("cifar_resnet20", 3, head="baseline", fin_width=None)
    # The default is accepted on every head.
    lficam_tf.build_model("cifar_resnet20", 3, head="abn", fin_width="auto")
