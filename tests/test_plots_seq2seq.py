"""Chapter 9's figures (plots.seq2seq): which measurement lands in which artist, every seed drawn, and
the inputs each builder refuses (the style itself is checked in test_style.py)."""
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from recurrent import plots

RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def close_figures():
    plots.use_style()
    yield
    plt.close("all")


def lines_with(ax, ydata):
    """The lines of ``ax`` whose y data are ``ydata`` (to rounding)."""
    return [ln for ln in ax.lines if len(ln.get_ydata()) == len(ydata)
            and np.allclose(np.asarray(ln.get_ydata(), float), ydata, rtol=0, atol=1e-12)]


def accuracies(S, P):
    return RNG.uniform(0.05, 0.95, (S, P))


def test_accuracy_by_length_draws_every_seed_and_the_mean_per_label():
    lengths = [1, 2, 3, 5]
    acc = {"plain": accuracies(5, 4), "attention": accuracies(5, 4)}
    fig = plots.accuracy_by_length(lengths, acc, title="bottleneck")
    ax = fig.axes[0]
    colors = []
    for label, values in acc.items():
        means = [ln for ln in lines_with(ax, values.mean(0)) if ln.get_label().startswith(label)]
        assert len(means) == 1 and "mean of 5 seeds" in means[0].get_label()
        for row in values:                                       # each seed as its own points
            assert any(ln.get_linestyle() == "None" and ln.get_color() == means[0].get_color()
                       for ln in lines_with(ax, row))
        colors.append(means[0].get_color())
    assert colors[0] != colors[1]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "5"]
    assert ax.get_xlabel() == "source length S (tokens)" and ax.get_ylabel() == "exact-match accuracy"
    low, high = ax.get_ylim()
    assert low < 0 and high > 1 and ax.get_title() == "bottleneck"


def test_exposure_bias_is_solid_for_teacher_forcing_and_dashed_for_free_running():
    positions = np.arange(1, 6)
    tf = {"plain": accuracies(5, 5), "attention": accuracies(5, 5)}
    fr = {"plain": tf["plain"] / 2, "attention": tf["attention"] / 3}
    ax = plots.exposure_bias(positions, tf, fr).axes[0]
    for label in tf:
        (solid,) = lines_with(ax, tf[label].mean(0))
        (dashed,) = lines_with(ax, fr[label].mean(0))
        assert solid.get_linestyle() == "-" and dashed.get_linestyle() == "--"
        assert solid.get_color() == dashed.get_color()
        assert solid.get_label() == f"{label}, teacher-forced (bold: mean of 5 seeds)"
        assert dashed.get_label().startswith(f"{label}, free-running")
        assert solid.get_linewidth() > 1.5
        for row in fr[label]:                                    # every seed thin, dashed
            (thin,) = lines_with(ax, row)
            assert thin.get_linestyle() == "--" and thin.get_linewidth() < 1
    assert lines_with(ax, tf["plain"].mean(0))[0].get_color() != lines_with(ax, tf["attention"].mean(0))[0] \
        .get_color()
    assert ax.get_xlabel() == "output position t" and ax.get_ylabel() == "token accuracy"


def test_exposure_bias_needs_the_same_labels_in_both():
    with pytest.raises(ValueError, match=r"^teacher_forced, free_running: expected the same labels"):
        plots.exposure_bias([1, 2], {"plain": accuracies(2, 2)}, {"attention": accuracies(2, 2)})


def attention_example(source, output):
    return list(source), list(output), RNG.dirichlet(np.ones(len(source)), len(output))


def test_attention_maps_show_each_weight_matrix_with_its_tokens_and_one_colorbar():
    examples = [attention_example("4711", [*"1174", "<eos>"]), attention_example("90", [*"09", "<eos>"])]
    fig = plots.attention_maps(examples, title="attention")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(panels) == 2 and len(bars) == 1
    assert bars[0].get_ylabel() == r"attention weight $\alpha_{t,s}$"
    for ax, (source, output, weights) in zip(panels, examples):
        (image,) = ax.images
        np.testing.assert_array_equal(image.get_array(), weights)
        assert image.get_clim() == (0.0, 1.0)                   # one colour scale for every panel
        assert [t.get_text() for t in ax.get_xticklabels()] == source
        assert [t.get_text() for t in ax.get_yticklabels()] == output
        assert ax.get_xlabel() == "source token s" and ax.get_ylabel() == "output step t"
    assert panels[0].get_title() == "4711 → 1174" and fig.get_suptitle() == "attention"
    # panels as wide as their sources: a cell has the same width in both
    fig.canvas.draw()
    w = [ax.get_position().width / len(src) for ax, (src, _, _) in zip(panels, examples)]
    assert w[0] == pytest.approx(w[1], rel=0.05)


def test_attention_maps_takes_one_example():
    fig = plots.attention_maps([attention_example("3", ["3", "<eos>"])])
    assert len(fig.axes) == 2


@pytest.mark.parametrize("example, error, message", [
    ((list("47"), list("74"), np.full((2, 3), 1 / 3)), ValueError, r"examples\[0\] weights: expected shape"),
    ((list("47"), list("74"), np.array([[0.5, 0.6], [1.0, 0.0]])), ValueError, r"summing to 1"),
    ((list("47"), list("74"), np.array([[1.5, -0.5], [1.0, 0.0]])), ValueError, r"non-negative"),
    ((list("47"), [7, 4], np.eye(2)), TypeError, r"examples\[0\] output_tokens: expected a non-empty list"),
    (([], list("74"), np.eye(2)), TypeError, r"examples\[0\] source_tokens"),
    ((list("47"), list("74")), TypeError, r"examples\[0\]: expected a triple"),
    ((list("47"), list("74"), np.array([[np.nan, 1.0], [1.0, 0.0]])), ValueError, r"finite"),
])
def test_attention_maps_refuses_malformed_examples(example, error, message):
    with pytest.raises(error, match=message):
        plots.attention_maps([example])


def test_attention_maps_refuses_an_empty_list():
    with pytest.raises(ValueError, match=r"^examples: expected at least one"):
        plots.attention_maps([])


def test_beam_widths_spaces_the_widths_evenly_and_draws_every_seed():
    acc = {"attention": accuracies(5, 4)}
    ax = plots.beam_widths([1, 2, 4, 8], acc).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "4", "8"]
    np.testing.assert_array_equal(ax.get_xticks(), [0, 1, 2, 3])
    assert len(lines_with(ax, acc["attention"].mean(0))) == 1
    assert all(lines_with(ax, row) for row in acc["attention"])
    assert ax.get_xlabel() == "beam width k" and ax.get_ylabel() == "exact-match accuracy"


def test_conditions_one_dot_per_seed_the_mean_and_the_parameter_counts():
    acc = {"plain": np.linspace(0.2, 0.4, 5), "attention": np.full(5, 0.9)}
    ax = plots.conditions(acc, {"plain": 12345, "attention": np.int64(15804)}).axes[0]
    np.testing.assert_allclose(lines_with(ax, acc["plain"])[0].get_xdata(), np.linspace(-0.15, 0.15, 5))
    assert len(lines_with(ax, acc["attention"])) == 1
    means = [seg[0][1] for coll in ax.collections for seg in coll.get_segments()]
    np.testing.assert_allclose(sorted(means), [0.3, 0.9])
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["plain\n12,345 parameters", "attention\n15,804 parameters"]
    ticks = [t.get_text() for t in plots.conditions(acc, {"plain": 7}).axes[0].get_xticklabels()]
    assert ticks == ["plain\n7 parameters", "attention"]                 # counts are optional per condition


@pytest.mark.parametrize("params, error, message", [
    ({"stacked": 10}, ValueError, r"^params: expected conditions of accuracy \['plain'\], got 'stacked'"),
    ({"plain": True}, TypeError, r"^params\['plain'\]: expected an int"),
    ({"plain": 10.0}, TypeError, r"^params\['plain'\]: expected an int"),
    ({"plain": 0}, ValueError, r"^params\['plain'\]: expected a parameter count >= 1"),
])
def test_conditions_refuses_bad_parameter_counts(params, error, message):
    with pytest.raises(error, match=message):
        plots.conditions({"plain": np.full(3, 0.5)}, params)


def moving_average(row, w):
    c = np.cumsum(np.concatenate([[0.0], row]))
    return (c[w:] - c[:-w]) / w


def test_loss_curves_draws_each_seed_smoothed_and_their_mean_on_a_log_axis():
    losses = {"plain": RNG.uniform(0.1, 3.0, (5, 90)), "attention": RNG.uniform(0.1, 3.0, (5, 90))}
    ax = plots.loss_curves(losses, window=9).axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "cross-entropy (nats per token)"
    assert ax.get_xlabel() == "training step"
    for label, values in losses.items():
        smooth = np.array([moving_average(row, 9) for row in values])
        (mean,) = lines_with(ax, smooth.mean(0))
        np.testing.assert_array_equal(mean.get_xdata(), np.arange(9, 91))     # at the window's last step
        assert mean.get_label().startswith(label) and mean.get_linewidth() > 1.5
        for row in smooth:
            (thin,) = lines_with(ax, row)
            assert thin.get_linewidth() < 1 and mcolors.same_color(thin.get_color(), mean.get_color())
    assert ax.get_legend().get_title().get_text() == "each line: moving average over 9 steps"


def test_loss_curves_default_window_and_no_smoothing():
    losses = {"plain": RNG.uniform(0.1, 3.0, (2, 60))}
    ax = plots.loss_curves(losses).axes[0]                        # default: a 30th of the run
    assert len(lines_with(ax, np.mean([moving_average(r, 2) for r in losses["plain"]], 0))) == 1
    ax = plots.loss_curves(losses, window=1).axes[0]
    assert len(lines_with(ax, losses["plain"].mean(0))) == 1 and not ax.get_legend().get_title().get_text()


@pytest.mark.parametrize("losses, window, error, message", [
    ({"a": np.ones((2, 5)), "b": np.ones((2, 6))}, None, ValueError, r"^losses: expected the same number"),
    ({"a": np.zeros((2, 5))}, None, ValueError, r"^losses\['a'\]: expected losses > 0"),
    ({"a": np.ones(5)}, None, ValueError, r"^losses\['a'\]: expected a 2-d array"),
    ({"a": np.ones((2, 5))}, 6, ValueError, r"^window: expected 1 <= window <= steps = 5, got 6"),
    ({"a": np.ones((2, 5))}, 2.0, TypeError, r"^window: expected an int"),
])
def test_loss_curves_refuses(losses, window, error, message):
    with pytest.raises(error, match=message):
        plots.loss_curves(losses, window=window)


@pytest.mark.parametrize("build", [
    lambda acc: plots.accuracy_by_length([1, 2, 3], acc),
    lambda acc: plots.beam_widths([1, 2, 3], acc),
    lambda acc: plots.exposure_bias([1, 2, 3], acc, acc),
])
@pytest.mark.parametrize("values, message", [
    (np.full((2, 3), 1.2), r"^\w+\['m'\]: expected accuracies in \[0, 1\], got values from 1.2 to 1.2"),
    (np.full((2, 3), -0.1), r"^\w+\['m'\]: expected accuracies in \[0, 1\]"),
    (np.full((2, 4), 0.5), r"^\w+\['m'\], \w+: expected shape \(S, len\(\w+\)\) = \(S, 3\), got \(2, 4\)"),
    (np.full(3, 0.5), r"^\w+\['m'\]: expected a 2-d array"),
    (np.array([[0.5, np.nan, 0.5]]), r"^\w+\['m'\]: expected finite values"),
])
def test_accuracy_figures_refuse_values_that_are_not_accuracies_per_setting(build, values, message):
    with pytest.raises(ValueError, match=message):
        build({"m": values})


@pytest.mark.parametrize("build, name", [
    (lambda x: plots.accuracy_by_length(x, {"m": np.full((2, 3), 0.5)}), "lengths"),
    (lambda x: plots.beam_widths(x, {"m": np.full((2, 3), 0.5)}), "widths"),
])
@pytest.mark.parametrize("x, message", [([1, 3, 2], "expected increasing values"),
                                        ([1, 2, 2], "expected increasing values"),
                                        ([0, 1, 2], "expected whole numbers >= 1"),
                                        ([1, 1.5, 2], "expected whole numbers >= 1")])
def test_lengths_and_widths_are_increasing_whole_numbers(build, name, x, message):
    with pytest.raises(ValueError, match=rf"^{name}: {message}"):
        build(x)


def test_positions_may_be_any_increasing_numbers():
    acc = {"m": np.full((2, 3), 0.5)}
    plots.exposure_bias([0, 1, 2.5], acc, acc)
    with pytest.raises(ValueError, match=r"^positions: expected increasing values"):
        plots.exposure_bias([2, 1, 3], acc, acc)


BAD_CALLS = {
    "title": [lambda: plots.accuracy_by_length([1], {"m": [[0.5]]}, title=3),
              lambda: plots.exposure_bias([1], {"m": [[0.5]]}, {"m": [[0.5]]}, title=3),
              lambda: plots.attention_maps([(["1"], ["1"], [[1.0]])], title=3),
              lambda: plots.beam_widths([1], {"m": [[0.5]]}, title=3),
              lambda: plots.conditions({"m": [0.5]}, title=3),
              lambda: plots.loss_curves({"m": [[0.5]]}, title=3)],
    "data": [lambda: plots.accuracy_by_length([1, 2], {"m": [[0.5]]}),
             lambda: plots.exposure_bias([1], {"m": [[0.5]]}, {"m": [[2.0]]}),
             lambda: plots.attention_maps([(["1"], ["1"], [[1.0]]), (["1"], ["1"], [[0.5]])]),
             lambda: plots.beam_widths([2, 1], {"m": [[0.5, 0.5]]}),
             lambda: plots.conditions({"m": [0.5]}, {"m": -1}),
             lambda: plots.loss_curves({"m": [[0.5, 0.5]]}, window=3)],
}


@pytest.mark.parametrize("call", [pytest.param(c, id=f"{kind}-{i}") for kind, calls in BAD_CALLS.items()
                                  for i, c in enumerate(calls)])
def test_a_refused_input_leaves_no_figure_behind(call):
    plt.close("all")
    with pytest.raises((TypeError, ValueError)):
        call()
    assert plt.get_fignums() == []        # a notebook would show a stray empty figure under the error
