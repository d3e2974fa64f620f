"""Every figure builder: it draws, it labels its axes, it titles, and it uses log axes where asked."""
import io

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


@pytest.mark.parametrize("log, scales", [(None, ("linear", "linear")), ("y", ("linear", "log")),
                                         ("xy", ("log", "log"))])
def test_curves_draw_every_curve_on_the_scales_asked(log, scales):
    fig = plots.curves([1, 10, 100], {"a": [1, 0.1, 0.01], "b": [2, 3, 4]}, "t", "B", "variance", log=log,
                       reference={"floor": 0.5}, styles={"a": "o-"})
    ax = fig.axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == scales
    assert [line.get_label() for line in ax.lines] == ["a", "b", "floor"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1, 0.1, 0.01])
    assert ax.lines[0].get_marker() == "o" and ax.lines[1].get_marker() == "None"
    np.testing.assert_allclose(ax.lines[2].get_ydata(), [0.5, 0.5])
    labelled(fig)


def test_seeds_summarise_with_the_mean_the_geometric_mean_or_the_median():
    runs = {"a": np.array([[1.0, 100.0], [100.0, 1.0]])}
    ax = plots.seeds([1, 2], runs, "t", "x", "y").axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [50.5, 50.5])     # points, then the mean
    assert len(ax.lines) == 3 and "mean of 2 seeds" in ax.lines[-1].get_label()
    ax = plots.seeds([1, 2], runs, "t", "x", "y", log=True).axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [10.0, 10.0])        # geometric mean
    assert ax.get_yscale() == "log"
    runs3 = {"a": np.array([[1.0, 5.0], [2.0, 7.0], [9.0, 6.0]])}
    ax = plots.seeds([1, 2], runs3, "t", "x", "y", show="lines").axes[0]
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), [2.0, 6.0])          # median
    ax = plots.seeds([1, 2], runs3, "t", "x", "y", show="band", reference={"r": 1.0}).axes[0]
    assert len(ax.collections) == 1 and len(ax.lines) == 4                    # 3 seeds + the reference line
    fig = plots.seeds(["a", "b"], runs, "t", "x", "y")                        # labels: ticks, not positions
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b"]
    labelled(fig)


def test_panels_share_y_and_smooth_over_the_window():
    x = np.arange(1, 11)
    fig = plots.panels(x, {"one": {"a": np.arange(1.0, 11)}, "two": {"a": np.ones(10)}}, "t", "step", "loss",
                       window=3)
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), x[2:])
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), np.arange(2.0, 10.0))   # moving average
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    fig = plots.panels(x, {"one": {"a": np.ones((3, 10))}, "two": {"a": np.full((3, 10), 2.0)}}, "t", "step",
                       "loss", show="lines", reference={"baseline": 0.5}, ylim=(0.1, 10))
    for ax in fig.axes:                      # every seed, the median, then the reference line, in every panel
        assert [line.get_label() for line in ax.lines][-2:] == ["a (median of 3 seeds)", "baseline"]
        assert len(ax.lines) == 5 and ax.get_ylim() == (0.1, 10)
    np.testing.assert_allclose(fig.axes[1].lines[3].get_ydata(), 2.0)
    assert fig.axes[0].get_ylabel() == "loss" and fig.axes[1].get_ylabel() == ""


@pytest.mark.parametrize("call, error, message", [
    (lambda: plots.curves([1, 2], {"a": [1, 2, 3]}, "t", "x", "y"), ValueError, r"ys\['a'\], x: expected"),
    (lambda: plots.curves([1, 2], [[1, 2]], "t", "x", "y"), TypeError, "ys: expected a dict"),
    (lambda: plots.curves([1, 2], {"a": [1, 2]}, "t", "x", "y", log="x"), ValueError, "log: expected one of"),
    (lambda: plots.curves([1, 2], {"a": [1, 2]}, None, "x", "y"), TypeError, "title: expected a str"),
    (lambda: plots.curves([1, 2], {"a": ["p", "q"]}, "t", "x", "y"), TypeError, "expected an array"),
    (lambda: plots.seeds([1, 2], {"a": np.ones((2, 3))}, "t", "x", "y"), ValueError, r"\(S, 2\), got"),
    (lambda: plots.seeds([1, 2], {"a": np.ones((2, 2))}, "t", "x", "y", show="box"), ValueError, "show:"),
    (lambda: plots.seeds(["a", "b"], {"a": np.ones((2, 2))}, "t", "x", "y", show="lines"), TypeError, "x:"),
    (lambda: plots.panels([1, 2], {}, "t", "x", "y"), ValueError, "panels: expected at least one entry"),
    (lambda: plots.panels([1, 2], {"p": {"a": [1, 2]}}, "t", "x", "y", window=5), ValueError, "window:"),
    (lambda: plots.power_bounds({"t": [0, 1]}, 0.9, "t"), TypeError, "r: expected a result with fields"),
    (lambda: plots.gradient_flow({"k": [0]}), TypeError, "result: expected a result with fields"),
    (lambda: plots.unrolled(0), ValueError, "T: expected 1 <= T"),
    (lambda: plots.heatmap(np.eye(2), ["a"], ["a", "b"], "t", "x", "y"), ValueError, "row_labels"),
])
def test_bad_input_is_refused_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_chapter_figures_read_typed_results():
    from recurrent import fixed_points as fp
    from recurrent import spectral

    r = spectral.power_norms(spectral.matrix("gaussian", 4, 0.9, rng=0), 20)
    fig = plots.power_bounds(r, 0.9, "powers")
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), r.norm)
    assert fig.axes[0].get_yscale() == "log"
    labelled(fig)
    fig = plots.bifurcation({"b = 0": fp.bifurcation(np.linspace(0.5, 2, 7))}, "fixed points")
    labelled(fig)


@pytest.mark.parametrize("name", ["gradient_flow", "cobweb"])
def test_an_updated_explorer_figure_renders_as_one_drawn_afresh(name):
    """refresh + png (the changing artists over a cached background) gives the picture of a new figure."""
    from PIL import Image

    from recurrent import fixed_points as fp
    from recurrent import spectral

    compute = {"gradient_flow": spectral.gradient_norms_at_init, "cobweb": fp.tanh_unit_trace}[name]
    first, second = ({"rho": 0.9}, {"rho": 1.3, "family": "orthogonal"}) if name == "gradient_flow" else (
        {"w": 1.5}, {"w": -1.0, "x0": 0.6})
    draw = getattr(plots, name)
    fig = draw(compute(**first))
    fig.png()                                                  # caches the background
    assert fig.refresh(compute(**second))
    updated = np.asarray(Image.open(io.BytesIO(fig.png())).convert("RGB"), dtype=int)
    fresh = np.asarray(Image.open(io.BytesIO(draw(compute(**second)).png())).convert("RGB"), dtype=int)
    assert updated.shape == fresh.shape
    assert np.mean(np.abs(updated - fresh) > 8) < 0.002        # the same picture up to antialiasing


def test_an_explorer_figure_asks_for_a_new_one_when_the_axes_would_change():
    from recurrent import fixed_points as fp

    fig = plots.cobweb(fp.tanh_unit_trace(steps=30))
    assert not fig.refresh(fp.tanh_unit_trace(steps=40))      # another number of steps: other x limits
    assert not fig.refresh(fp.trace(fp.logistic(3.5), 0.2, 30))    # another interval
