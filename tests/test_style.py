"""House style: ruff on the code and notebooks, and every figure builder of ``plots`` drawn once and checked
for labelled axes, a title, and a log scale where what it plots spans decades."""
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from recurrent import fixed_points, fixed_points_2d, memory, plots, remedies, spectral

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "--no-cache", "code", "tests", "scripts", "dev.py", "book"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def dtanh(z):
    return 1 - np.tanh(z) ** 2


class Fwd:                                   # the fields gate_trace reads from an LSTM forward pass
    def __init__(self, T=6):
        g = np.random.default_rng(0).uniform(0.05, 0.95, (T, 1, 4))
        self.gates, self.cs, self.hs = g, np.cumsum(g[:, :, :1], 0), np.tanh(np.cumsum(g[:, :, :1], 0))


def examples():
    """One call of every public builder, with the data of a chapter (or a small stand-in)."""
    rng = np.random.default_rng(0)
    decay = np.exp(-np.arange(1, 41))[None] * rng.uniform(0.5, 2, (3, 1))       # spans 17 decades
    ws, bs = np.linspace(0, 10, 30), np.linspace(-8, 2, 30)
    L = remedies.cliff_loss(*np.meshgrid(ws, bs))
    return {
        "unrolled": lambda: plots.unrolled(3),
        "rnn_cell": plots.rnn_cell,
        "lstm_cell": plots.lstm_cell,
        "gru_cell": plots.gru_cell,
        "architectures": plots.architectures,
        "phase_portrait": lambda: plots.phase_portrait(fixed_points_2d.phase_portrait(
            [[0.9, -0.6], [0.6, 0.9]], [0.0, 0.0], [[0.05, 0.0], [0.9, 0.9]], steps=40, grid=9), "portrait"),
        "along_training": lambda: plots.along_training(
            [0, 10, 20], {"gradient": ("norm", True, {"rnn": rng.uniform(1e-6, 1, (5, 3))}),
                          "radius": ("ρ", False, {"rnn": rng.uniform(0.5, 1.5, (5, 3))})}, "along training"),
        "heatmap": lambda: plots.heatmap(np.eye(3), list("abc"), list("xyz"), "one-hot", "entry", "step"),
        "error_bars": lambda: plots.error_bars({"U": 1e-10, "W": 3e-9}, 1e-7, "gradient check"),
        "minibatch_noise": lambda: plots.minibatch_noise([1, 4, 16], [[1.0, 0.26, 0.06], [2.0, 0.5, 0.13]],
                                                         [1.0, 2.0], "noise", band=(0.8, 1.25)),
        "char_model_seeds": lambda: plots.char_model_seeds(rng.uniform(1, 3, (2, 80)), [40, 80],
                                                           [[2.0, 1.8], [2.1, 1.9]], {"unigram": 2.9},
                                                           "a sample\nof text", "character model"),
        "gradient_flow": lambda: plots.gradient_flow(spectral.gradient_norms_at_init()),
        "power_bounds": lambda: plots.power_bounds(
            spectral.power_norms(spectral.matrix("gaussian", 8, 0.9, rng=0), 60), 0.9, "powers"),
        "cobweb": lambda: plots.cobweb(fixed_points.tanh_unit_trace()),
        "bifurcation": lambda: plots.bifurcation({"b = 0": fixed_points.bifurcation(np.linspace(-2, 3, 26))},
                                                 "fixed points"),
        "cliff": lambda: plots.cliff(ws, bs, L, {"descent": remedies.descend((5.3, -3.8), 0.1, 30).path},
                                     "cliff"),
        "cliff_seeds": lambda: plots.cliff_seeds(ws, bs, L, rng.uniform((4, -4.5), (7, -3), (2, 20, 2)),
                                                 rng.random((2, 20)) < 0.1, {"free": [0.1, 0.05]}, "starts"),
        "memory_flow": lambda: plots.memory_flow(memory.gradient_ratios(T=25)),
        "gate_trace": lambda: plots.gate_trace(Fwd(), {"write": np.eye(6)[1]}, "a hand-set LSTM"),
        "activations": lambda: plots.activations(np.linspace(-4, 4, 9), {"tanh": (np.tanh, dtanh)}, "φ"),
        "curves": lambda: plots.curves(np.arange(1, 41), {"a": decay[0]}, "decay", "t", "norm", log="y"),
        "seeds": lambda: plots.seeds(np.arange(1, 41), {"a": decay}, "decay", "t", "norm", show="lines",
                                     log=True),
        "panels": lambda: plots.panels(np.arange(1, 41), {"p": {"a": decay}, "q": {"a": 2 * decay}}, "decay",
                                       "t", "norm", show="band"),
        **seq2seq_examples(rng),                                                       # block B
        **beam_examples(),                                                             # block C
    }


# --- block B (issue 11): chapter 9's figures, on small synthetic measurements ------------------------
def seq2seq_examples(rng):
    acc = lambda *shape: rng.uniform(0.3, 1.0, shape)                      # noqa: E731
    weights = rng.dirichlet(np.ones(3), 4)                                  # (L, S) = (4, 3)
    return {
        "accuracy_by_length": lambda: plots.accuracy_by_length([1, 2, 3], {"plain": acc(5, 3)}),
        "exposure_bias": lambda: plots.exposure_bias([1, 2, 3, 4], {"plain": acc(5, 4)},
                                                     {"plain": acc(5, 4)}),
        "attention_maps": lambda: plots.attention_maps([(list("471"), [*"174", "<eos>"], weights)] * 2),
        "beam_widths": lambda: plots.beam_widths([1, 2, 4], {"attention": acc(5, 3)}),
        "conditions": lambda: plots.conditions({"plain": acc(5), "attention": acc(5)}, {"plain": 1200}),
        "loss_curves": lambda: plots.loss_curves({"plain": np.exp(-np.arange(90) / 20)[None] * acc(5, 1)}),
    }
# --- end block B --------------------------------------------------------------------------------------


# --- block C (issue 11): chapter 9's beam-search explorer, on an untrained attention model -------------
def beam_examples():
    from recurrent import seq2seq, seq2seq_data, seq2seq_explorer

    def view():
        p = seq2seq.init_seq2seq(seq2seq_data.V, seq2seq_data.V, 4, 6, attention=True, rng=0)
        return seq2seq_explorer.beam_view(p, "4711", 3)
    return {"beam_view": lambda: plots.beam_view(view())}
# --- end block C --------------------------------------------------------------------------------------


# drawings without data axes (their labels are the equations' symbols: tests/test_diagrams.py)
DIAGRAMS = {"unrolled", "rnn_cell", "lstm_cell", "gru_cell", "architectures"}

# builders whose y values may span decades on purpose on a linear axis, and why
LINEAR_ON_PURPOSE = {"gate_trace": "gate values are probabilities in [0, 1]: 2e-9 and 1 both mean shut/open"}


def test_every_public_builder_has_an_example():
    builders = {name for name in plots.__all__ if callable(getattr(plots, name)) and name[0].islower()
                and name not in {"use_style", "finish"}}
    assert builders == set(examples())


def spans_decades(ax) -> bool:
    ys = [np.asarray(line.get_ydata(), float) for line in ax.lines if len(line.get_ydata()) > 2]
    ys = np.concatenate(ys) if ys else np.zeros(0)
    ys = ys[np.isfinite(ys)]
    return ys.size > 0 and ys.min() > 0 and ys.max() / ys.min() > 1e3


@pytest.mark.parametrize("name", sorted(examples()))
def test_every_figure_is_labelled_titled_and_log_scaled_where_it_spans_decades(name):
    plots.use_style()
    fig = examples()[name]()
    try:
        shown = [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]
        assert shown or name in DIAGRAMS
        titled = [ax.get_title() for ax in fig.axes] + [fig.get_suptitle()]
        assert any(titled), f"{name}: no title"
        for ax in shown:
            shared_x = [o for o in ax.get_shared_x_axes().get_siblings(ax) if o is not ax]
            shared_y = [o for o in ax.get_shared_y_axes().get_siblings(ax) if o is not ax]
            assert ax.get_xlabel() or any(o.get_xlabel() for o in shared_x), f"{name}: x axis without a label"
            assert ax.get_ylabel() or any(o.get_ylabel() for o in shared_y), f"{name}: y axis without a label"
            if spans_decades(ax) and name not in LINEAR_ON_PURPOSE:
                assert ax.get_yscale() == "log", f"{name}: values spanning decades on a linear axis"
    finally:
        plt.close("all")
