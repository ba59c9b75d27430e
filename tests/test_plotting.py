"""Learning-curve plots: content, several runs, robustness, bad input, no pyplot state."""

import matplotlib.pyplot as plt
import pytest

from gspace.plotting import history_figure, plot_history
from gspace.train import History


def make_history(label=None, blown_up=False):
    loss = [2.3, 1.0, 1e300 if blown_up else 0.5]
    h = History(
        epoch=[0, 1, 2],
        lr=[None, 0.1, 0.1],
        train_loss=loss,
        train_acc=[0.1, 0.7, 0.9],
        val_loss=[2.3, 1.1, 0.7],
        val_acc=[0.1, 0.6, 0.8],
        test_loss=[2.3, 1.2, 0.8],
        test_acc=[0.1, 0.6, 0.8],
        seconds=[0.0, 0.1, 0.1],
    )
    if label:
        h.config["label"] = label
    return h


def test_figure_has_title_axis_labels_and_a_legend_per_run_and_split():
    fig = history_figure([make_history("SGD"), make_history("G-SGD")], title="Compare")
    ax_loss, ax_acc = fig.axes
    assert fig._suptitle.get_text() == "Compare"
    assert (ax_loss.get_xlabel(), ax_loss.get_ylabel()) == ("epoch", "loss")
    assert (ax_acc.get_xlabel(), ax_acc.get_ylabel()) == ("epoch", "accuracy")
    labels = [t.get_text() for t in ax_acc.get_legend().get_texts()]
    assert labels == [f"{r} ({s})" for r in ("SGD", "G-SGD") for s in ("train", "val", "test")]
    assert len(ax_loss.get_lines()) == 6
    assert list(ax_acc.get_lines()[0].get_ydata()) == [0.1, 0.7, 0.9]


def test_plot_history_writes_files_and_leaves_no_pyplot_figure(tmp_path):
    before = plt.get_fignums()
    for suffix in ("png", "svg", "pdf"):
        out = plot_history(make_history(), tmp_path / "a" / f"curves.{suffix}")
        assert out.stat().st_size > 0
    assert plt.get_fignums() == before


def test_plot_history_handles_a_blown_up_run_and_missing_values(tmp_path):
    h = make_history(blown_up=True)
    h.val_loss = [None, None, None]
    h.val_acc = [None, None, None]
    assert plot_history(h, tmp_path / "x.png").is_file()
    assert history_figure(h).axes[0].get_yscale() == "linear"
    assert history_figure(make_history()).axes[0].get_yscale() == "log"


@pytest.mark.parametrize(
    "arg, kwargs, exc, words",
    [
        ([], {}, ValueError, "at least one"),
        ([{"epoch": [0]}], {}, TypeError, "History"),
        ([History()], {}, ValueError, "no epochs"),
        ([make_history()], {"labels": ["a", "b"]}, ValueError, "2 labels for 1"),
        ([make_history()], {"splits": ("dev",)}, ValueError, "train, val, test"),
    ],
)
def test_plot_history_bad_input(tmp_path, arg, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        plot_history(arg, tmp_path / "x.png", **kwargs)
    assert not (tmp_path / "x.png").exists()


def test_draw_network_title_names_the_widths_and_colours():
    from gspace.plotting import draw_network

    ax = draw_network([3, 4, 4, 2])
    assert ax.get_title() == "widths [3, 4, 4, 2]: skeleton pi-edges (blue), sigma-edges (red)"
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "other weight"
    plt.close(ax.figure)
