"""The explainer options are declared once (`lficam_tf.explain.arguments`):
`lficam-explain` and `lficam-eval` parse the same flags into the same
options, and only the flags given are forwarded."""

import pytest

from lficam_tf.evaluation import cli as eval_cli
from lficam_tf.explain import cli as explain_cli
from lficam_tf.explain.arguments import explainer_options

FLAGS = [
    "--batch-size", "4", "--layer", "a", "--layer", "b",
    "--reshape-transform", "vit", "--aug-smooth", "--eigen-smooth",
    "--chunk-size", "8", "--top-n", "3", "--masking", "images",
]  # fmt: skip
EXPLAIN_ARGV = ["m.keras", "x.png", "--out", "o"]
EVAL_ARGV = ["m.keras", "--data", "shapes", "--out", "o"]


def _explainer_group(parser):
    (group,) = [g for g in parser._action_groups if g.title == "explainer options"]
    return [
        (a.option_strings, a.dest, a.default, a.choices, a.type, a.help)
        for a in group._group_actions
    ]


def test_both_command_lines_declare_the_same_options():
    explain_parser, eval_parser = explain_cli.build_parser(), eval_cli.build_parser()
    assert _explainer_group(explain_parser) == _explainer_group(eval_parser)
    names = [a[1] for a in _explainer_group(explain_parser)]
    assert names == [
        "batch_size", "layer", "reshape_transform", "aug_smooth", "eigen_smooth",
        "chunk_size", "top_n", "masking",
    ]  # fmt: skip
    # Declared nowhere else in either parser.
    for parser in (explain_parser, eval_parser):
        dests = [a.dest for a in parser._actions]
        assert all(dests.count(name) == 1 for name in names)


def test_the_same_argv_gives_the_same_options():
    from_explain = explain_cli.build_parser().parse_args(EXPLAIN_ARGV + FLAGS)
    from_eval = eval_cli.build_parser().parse_args(EVAL_ARGV + FLAGS)
    expected = {
        "layer": ["a", "b"],
        "chunk_size": 8,
        "top_n": 3,
        "masking": "images",
        "reshape_transform": "vit",
        "aug_smooth": True,
        "eigen_smooth": True,
    }
    assert explainer_options(from_explain) == explainer_options(from_eval) == expected
    assert from_explain.batch_size == from_eval.batch_size == 4


def test_flags_left_out_are_not_forwarded():
    # Each method then applies its own defaults (Score-CAM: chunk_size 32,
    # masking 'preprocessed'), and Grad-CAM is not handed Score-CAM's options.
    for args in (
        explain_cli.build_parser().parse_args(EXPLAIN_ARGV),
        eval_cli.build_parser().parse_args(EVAL_ARGV + ["--masking", "preprocessed"]),
    ):
        assert explainer_options(args) == {}
        assert args.batch_size == 32 and args.masking == "preprocessed"


@pytest.mark.parametrize(
    "main, argv",
    [(explain_cli.main, EXPLAIN_ARGV), (eval_cli.main, EVAL_ARGV)],
)
def test_a_bad_batch_size_is_the_same_error_in_both(main, argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv + ["--batch-size", "0"])
    assert exit_info.value.code == 2
    assert (
        "`--batch-size` must be a positive int. Received: --batch-size 0"
        in capsys.readouterr().err
    )
