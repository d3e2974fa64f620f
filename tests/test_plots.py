"""Every figure builder: it draws, it labels its axes, it titles, and it uses log axes where asked."""
import matplotlib.pyplot as plt
import numpy as np
import pytest

from recurrent import plots


def labelled(fig):
    for ax in fig.axes:
        if ax.axison:
            assert ax.get_xlabel() and ax.get_ylabel(), "every visible axis needs labels"
    assert any(ax.get_title() for ax in fig.axes), "every figure needs a title"


@pytest.fixture(autouse=True)
def close_figures():
    plots.use_style()
    yield
    plt.close("all")


def test_unrolled_has_one_node_per_symbol_and_step():
    fig = plots.unrolled(3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for t in (1, 2, 3):
        assert {f"$x_{{{t}}}$", f"$h_{{{t}}}$", f"$o_{{{t}}}$", f"$L_{{{t}}}$"} <= set(texts)
    assert "$h_0$" in texts and texts.count("W") == 3
    assert "$x_{12}$" in [t.get_text() for t in plots.unrolled(12).axes[0].texts]   # two-digit steps
    assert fig.axes[0].get_title()


def test_heatmap_writes_every_entry():
    fig = plots.heatmap(np.eye(3), list("abc"), list("abc"), "t", "x", "y")
    assert len(fig.axes[0].texts) == 9
    labelled(fig)


def test_error_bars_log_scale_and_threshold():
    fig = plots.error_bars({"U": 1e-10, "W": 2e-10}, 1e-7, "check")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.patches) == 2
    assert ax.lines[0].get_ydata()[0] == 1e-7
    labelled(fig)


def test_loss_curves_draw_train_validation_and_baselines():
    fig = plots.loss_curves(np.arange(1, 101), np.linspace(3, 1, 100), [50, 100], [2.0, 1.9],
                            {"unigram": 2.9}, title="loss")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.lines]
    assert "held-out text" in labels and "unigram" in labels and len(ax.lines) == 4
    labelled(fig)


def test_bars_and_loglog():
    fig = plots.bars([1, 2], [0.3, 0.9], "acc", "T", "accuracy", reference={"chance": 0.25}, log=True)
    assert fig.axes[0].get_yscale() == "log"
    labelled(fig)
    fig = plots.loglog([1, 10], {"a": [1, 0.1]}, "v", "B", "variance")
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    labelled(fig)
