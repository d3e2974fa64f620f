"""Valid example values for every public argument of ``recurrent``, keyed by argument name, and the kind
of each argument, from which tests/test_api_inputs.py draws the bad values.

Resolution order for an argument ``a`` of ``module.function``: ``FUNCTIONS["module.function"][a]``,
then ``MODULES["module"][a]``, then ``COMMON[a]``. Every factory builds a fresh value (callables may
change their arguments in place). Sizes are small and shared: n = 3 inputs, d = 4 hidden units,
k = 2 outputs, T = 5 steps, B = 2 examples, so that the whole harness runs in seconds.

When a public callable has a required argument that no table supplies, test_api_inputs.py fails and
says which entry to add. Whole callables are left out only in ``SKIP``, each with its reason.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

n, d, k, T, B = 3, 4, 2, 5, 2


def _mod(name):
    """A module of the package, or None while it does not exist (the package is being refactored)."""
    try:
        return importlib.import_module(f"recurrent.{name}")
    except ImportError:
        return None


def _first(*paths):
    """The first of ``module.attr`` paths that exists: the registry follows renames without edits."""
    for path in paths:
        module, _, attr = path.rpartition(".")
        m = _mod(module)
        if m is not None and hasattr(m, attr):
            return getattr(m, attr)
    raise LookupError(f"none of {paths} exists")


# --- argument kinds ---------------------------------------------------------------------------------

@dataclass
class Spec:
    """A valid example (``make()`` builds it) and the kind of the argument, which decides its bad values.

    kind is one of: int, float, array, ids, option, rng, bool, text, callable, object, mapping,
    int_seq, float_seq, dtype, any (anything printable is valid: only a function or a bare object is
    bad). ``extra`` holds the kind's details (see the constructors below).
    """

    make: Callable[[], Any]
    kind: str
    extra: dict = field(default_factory=dict)


def I(value: int, minimum: int = 1) -> Spec:          # noqa: E743 (the names read as kinds)
    """An int >= minimum; bad: floats (even 3.0), bools, strings, None, NaN, values below minimum."""
    return Spec(lambda: value, "int", {"minimum": minimum})


def F(value: float, low: float | None = None, high: float | None = None, interval: str = "[]",
      array_ok: bool = False) -> Spec:
    """A finite real number, optionally in [low, high] (``interval`` says which ends are closed);
    ``array_ok`` where an array of such numbers is valid too (one per seed)."""
    return Spec(lambda: value, "float", {"low": low, "high": high, "interval": interval,
                                         "array_ok": array_ok})


def A(make: Callable, tied: tuple = (), rank_free: bool = False, empty_ok: bool = False,
      labels_ok: bool = False) -> Spec:
    """A finite float array; ``tied`` lists the axes whose length must match other arguments (a
    changed length there is bad); ``rank_free`` when any number of axes is valid; ``empty_ok`` for
    element-wise functions, for which an empty array is a valid input; ``labels_ok`` where strings
    are valid too (tick labels instead of positions)."""
    return Spec(make, "array", {"tied": tied, "rank_free": rank_free, "empty_ok": empty_ok,
                                "labels_ok": labels_ok})


def Ids(make: Callable, high: int | None, tied: tuple = (), rank_free: bool = False,
        empty_ok: bool = False) -> Spec:
    """An integer array of ids in [0, high) (``high`` None: any id >= 0 is valid)."""
    return Spec(make, "ids", {"high": high, "tied": tied, "rank_free": rank_free, "empty_ok": empty_ok})


def Opt(value, options) -> Spec:
    """One of a fixed set of options."""
    return Spec(lambda: value, "option", {"options": tuple(options)})


def Obj(make: Callable, wrong: Callable | None = None) -> Spec:
    """An instance of a package type (parameters, a forward pass, a map); ``wrong()`` builds a value of
    a similar but wrong type (an LSTM's parameters where the RNN's are meant)."""
    return Spec(make, "object", {"wrong": wrong})


def Keys(make: Callable, empty_ok: bool = False) -> Spec:
    """A mapping (bad: None, a string, a list and, unless ``empty_ok``, an empty mapping)."""
    return Spec(make, "mapping", {"empty_ok": empty_ok})


def Seq(make: Callable, minimum: int | None = None) -> Spec:
    """A non-empty sequence of ints (``minimum`` set) or of finite floats (``minimum`` None)."""
    return Spec(make, "int_seq" if minimum is not None else "float_seq", {"minimum": minimum})


RNG = Spec(lambda: 0, "rng")
BOOL_TRUE, BOOL_FALSE = Spec(lambda: True, "bool"), Spec(lambda: False, "bool")
DTYPE = Spec(lambda: np.float64, "dtype")


def Text(value: str) -> Spec:
    return Spec(lambda: value, "text")


def Fn(make: Callable, none_ok: bool = False) -> Spec:
    """A function; ``none_ok`` where the docstring gives None a meaning (``log=None``: silent)."""
    return Spec(make, "callable", {"none_ok": none_ok})


# --- shared valid values ----------------------------------------------------------------------------

def rnn_p(n_=n, k_=k):
    return _first("rnn.init_params")(n_, d, k_, rng=0)


def lstm_p():
    return _first("lstm.init_lstm")(n, d, k, rng=0)


def gru_p():
    return _first("gru.init_gru")(n, d, k, rng=0)


def xs_():
    return np.random.default_rng(1).normal(size=(T, B, n))


def ys_():
    return np.random.default_rng(2).integers(0, k, size=(T, B))


def forward_of(make_p, *paths):
    return lambda: _first(*paths, "bptt.forward", "rnn.forward")(make_p(), xs_())


def stream(L=12, high=n):
    return lambda: np.random.default_rng(3).integers(0, high, size=(L, B))


def stack():
    return _first("long_range.init_stack")("tanh", 3, [0, 1])


def lstm_arrays(G=4):
    return {"U": np.ones((G * d, n)), "W": np.eye(G * d, d), "V": np.ones((k, d)), "b": np.zeros(G * d),
            "c": np.zeros(k)}


def cell_params(G):
    shapes = lstm_arrays(G)
    tied = {"U": (0,), "W": (0, 1), "V": (1,), "b": (0,), "c": (0,)}
    return {name: A(lambda a=a: a.copy(), tied=tied[name]) for name, a in shapes.items()}


P_RNN = Obj(rnn_p, wrong=lstm_p)

COMMON: dict[str, Spec] = {
    "n": I(n), "d": I(d), "k": I(k), "T": I(T), "B": I(B), "steps": I(3), "t": I(3), "t_max": I(4),
    "T_out": I(3), "S": I(2), "L": I(12), "count": I(2), "episodes": I(2), "batch": I(4),
    "test_size": I(8), "trials": I(3), "n_windows": I(4), "burn": I(5, minimum=0), "grid": I(11, 3),
    "log_every": I(0, minimum=0), "seed": I(0, minimum=0), "delay": I(1, minimum=0), "i": I(0, 0),
    "tokens": I(40), "max_period": I(8), "starts": I(5), "digits": I(3), "order": I(1),
    "p": P_RNN, "grads": P_RNN, "enc": P_RNN, "dec": P_RNN, "p_fwd": P_RNN, "p_bwd": P_RNN,
    "xs": A(xs_, tied=(2,)), "x": A(lambda: xs_()[0], tied=(1,)),
    "h0": A(lambda: np.zeros((B, d)), tied=(0, 1)), "h_prev": A(lambda: np.zeros((B, d)), tied=(0, 1)),
    "c0": A(lambda: np.zeros((B, d)), tied=(0, 1)), "c_prev": A(lambda: np.zeros((B, d)), tied=(0, 1)),
    "ys": Ids(ys_, k, tied=(0, 1)), "mask": A(lambda: np.ones((T, B)), tied=(0, 1)),
    "os": A(lambda: np.random.default_rng(4).normal(size=(T, B, k))),
    "hs": A(lambda: np.random.default_rng(5).normal(size=(T, B, d)), tied=(2,)),
    "d_os": A(lambda: np.ones((T, B, k)), tied=(0, 1, 2)), "d_hT": A(lambda: np.ones((B, d)), tied=(0, 1)),
    "d_cT": A(lambda: np.ones((B, d)), tied=(0, 1)),
    "V": A(lambda: np.ones((k, d)), tied=(1,)), "c": A(lambda: np.zeros(k), tied=(0,)),
    "o": A(lambda: np.arange(6.0).reshape(2, 3), rank_free=True),
    "z": A(lambda: np.linspace(-2, 2, 5), rank_free=True),
    "W": A(lambda: 0.5 * np.eye(d), tied=(0, 1)), "h": A(lambda: np.zeros(d), tied=(0,)),
    "a": A(lambda: np.ones((2, 3))), "b": A(lambda: np.ones((2, 3)), tied=(0, 1)),
    "g": A(lambda: np.array([3.0, 4.0])),
    "fwd": Obj(forward_of(rnn_p), wrong=lambda: _first("bptt.forward", "rnn.forward")(rnn_p(), xs_()[:-1])),
    "ids": Ids(lambda: np.array([0, 1, 1, 0]), k),
    "activation": Opt("tanh", ("tanh", "linear")), "family": Opt("gaussian", ("gaussian", "orthogonal")),
    "biases": Opt("one", ("one", "two")), "variant": Opt("torch", ("torch", "cho", "simple")),
    "cell": Opt("tanh", ("tanh", "relu", "lstm", "gru")), "how": Opt("norm", ("norm", "value")),
    "level": Opt("char", ("char", "word")),
    "rng": RNG, "dtype": DTYPE,
    "lr": F(0.01, 0, None, "(]"), "eps": F(1e-5, 0, None, "(]"), "clip": F(1.0, 0, None, "(]"),
    "max_norm": F(1.0, 0, None, "(]"), "threshold": F(1.0, 0, None, "(]"),
    "temperature": F(1.0, 0, None, "(]"), "input_scale": F(0.5, 0, None, "[]"),
    "rho": F(0.9, 0, None, "(]"), "beta1": F(0.9, 0, 1, "[)"), "beta2": F(0.999, 0, 1, "[)"),
    "tol": F(1e-9, 0, None, "(]"), "forget_bias": F(1.0), "x0": F(0.3), "x_star": F(0.5),
    "r": F(2.5, 0, 4, "(]"),
    "w": F(1.5), "target": F(0.7), "lo": F(-1.0), "hi": F(1.0),
    "state": Keys(lambda: _first("rnn.to_torch")(rnn_p())),
    "reverse": BOOL_FALSE, "feedback": BOOL_TRUE, "carry": BOOL_TRUE,
    "name": Text("U"), "text": Text("abcab"), "label": Text("run"), "statement": Text("a claim"),
    "loss_fn": Fn(lambda: (lambda q: float(np.sum(q.W ** 2)))),
    "run": Fn(lambda: (lambda seed: float(seed))),
    "seeds": Seq(lambda: [0, 1], minimum=0), "Ks": Seq(lambda: [2], minimum=1),
    "batch_sizes": Seq(lambda: [1, 2], minimum=1), "lengths": Seq(lambda: [2], minimum=1),
    "ws": Seq(lambda: [0.5, 2.0]), "rs": A(lambda: np.array([2.5, 3.2]), rank_free=False),
    "values": A(lambda: np.array([1.0, 2.0, 3.0])),
    "loss": Opt("cross_entropy", ("cross_entropy", "last_squared_error")),
    "factor": F(0.5), "y_last": Ids(lambda: np.array([0, 1]), k, tied=(0,)),
    "fixture": Opt("rnn", ("rnn", "gates")), "case": Opt("small", ("small", "medium")),
    "axis": I(0, minimum=-2),          # the examples' arrays are 2-d: -2 .. 1 are valid axes
}

MODULES: dict[str, dict[str, Spec]] = {
    "lstm": {"p": Obj(lstm_p, wrong=lambda: rnn_p()), "fwd": Obj(forward_of(lstm_p, "lstm.forward")),
             "state": Keys(lambda: _first("lstm.to_torch")(lstm_p()))},
    "gru": {"p": Obj(gru_p, wrong=lambda: rnn_p()), "fwd": Obj(forward_of(gru_p, "gru.forward")),
            "state": Keys(lambda: _first("gru.to_torch")(gru_p()))},
    "fixed_points": {
        "m": Obj(lambda: _first("fixed_points.logistic")(2.5), wrong=lambda: (lambda x: x)),
        "b": F(0.0), "W": A(lambda: np.array([[1.5, 0.0], [0.0, 1.5]]), tied=(0, 1)),
    },
    "long_range": {"cell": Opt("tanh", ("tanh", "relu", "lstm", "gru")), "T": I(3, minimum=2),
                   "d": I(3), "steps": I(2), "batch": I(4), "test_size": I(8),
                   "p": Obj(lambda: _first("long_range.init_model")("tanh", 3), wrong=lstm_p),
                   "xs": A(lambda: np.random.default_rng(6).uniform(0, 1, (3, B, 2)), tied=(1, 2)),
                   "y": A(lambda: np.ones(B), tied=(0,)), "fwd": Obj(lambda: None),
                   "d_os": A(lambda: np.ones((3, B, 1)), tied=(0, 1, 2)),
                   "st": Obj(lambda: stack(), wrong=lambda: _first("long_range.init_model")("tanh", 3)),
                   "grads": Obj(lambda: stack(), wrong=lambda: _first("long_range.init_model")("tanh", 3)),
                   "rngs": Spec(lambda: [0, 1], "object"), "seeds": Seq(lambda: [0, 1], minimum=0),
                   "log": Fn(lambda: (lambda *a: None))},
    "bptt": {"p": Obj(rnn_p), "grads": Obj(rnn_p)},     # the one API: any cell's parameters are valid
    "training": {"p": Obj(lambda: rnn_p(n, n)), "grads": Obj(lambda: rnn_p(n, n)),      # any cell is valid
                 "inputs": Ids(stream(), n, tied=(0, 1)), "targets": Ids(stream(), n, tied=(0, 1)),
                 "mask": A(lambda: np.ones((12, B)), tied=(0, 1)), "T": I(3), "steps": I(2),
                 "update": Fn(lambda: (lambda q, g: None)),
                 "log": Fn(lambda: (lambda *a: None), none_ok=True),
                 "ids": Ids(lambda: np.arange(30) % n, n),
                 "validate": Spec(lambda: (stream()(), stream()()), "object")},
    "data": {"name": Opt("cells", ("cells", "widgets", "book"))},
    "echo": {"delay": I(1, minimum=0), "k": I(3, minimum=2), "d": I(4), "tokens": I(40), "L": I(60),
             "B": I(4),
             "name": Text("Ks"), "values": Seq(lambda: [1, 2], minimum=0)},
    "stacked": {"p": Obj(lambda: _first("long_range.init_model")("tanh", 3)),
                "st": Obj(lambda: stack(), wrong=lambda: _first("long_range.init_model")("tanh", 3)),
                "xs": A(lambda: np.random.default_rng(6).uniform(0, 1, (2, 3, B, 2)), tied=(0, 3)),
                "y": A(lambda: np.ones((2, B)), tied=(0, 1)), "T": I(3, minimum=2), "d": I(3),
                "rngs": Spec(lambda: [0, 1], "object"), "cell": Opt("tanh", ("tanh", "relu", "lstm", "gru"))},
    "remedies": {"b": F(0.5), "w": F(1.5), "T": I(6), "W": A(lambda: 0.5 * np.eye(3), tied=(0, 1)),
                 "start": A(lambda: np.array([1.5, 0.5]), tied=(0,)),
                 "starts": A(lambda: np.array([[1.5, 0.5], [2.0, 0.0]]), tied=(1,)),
                 "steps": I(3), "lr": F(0.05, 0, None, "(]"), "n": I(4)},
    "spectral": {"W": A(lambda: 0.5 * np.eye(d), tied=(0, 1)), "T": I(5), "d": I(4), "a": F(1.0)},
    # tasks: a stream of ids knows no vocabulary size, so any id >= 0 is valid there
    "tasks": {"ids": Ids(lambda: np.arange(12) % 3, None), "k": I(3, minimum=2), "L": I(10), "B": I(2),
              "train_ids": Ids(lambda: np.arange(20) % 3, 3), "test_ids": Ids(lambda: np.arange(8) % 3, 3),
              "T": I(3), "count": I(2), "delay": I(1, minimum=0)},
}

FUNCTIONS: dict[str, dict[str, Spec]] = {
    "rnn.sample": {"p": Obj(lambda: rnn_p(n, n), wrong=lstm_p), "first": Ids(lambda: 1, n, rank_free=True),
                   "h0": A(lambda: np.zeros((1, d)), tied=(0, 1))},
    "rnn.one_hot": {"ids": Ids(lambda: np.array([[0, 1], [1, 0]]), k, rank_free=True)},
    "rnn.outputs": {"V": A(lambda: np.ones((k, d)), tied=(1,)), "c": A(lambda: np.zeros(k), tied=(0,))},
    "rnn.second_difference": {"x_a": A(lambda: np.ones(n), tied=(0,)),
                              "x_b": A(lambda: np.ones(n), tied=(0,))},
    "rnn.Params": {"U": A(lambda: np.ones((d, n)), tied=(0,)), "W": A(lambda: np.eye(d), tied=(0, 1)),
                   "V": A(lambda: np.ones((k, d)), tied=(1,)), "b": A(lambda: np.zeros(d), tied=(0,)),
                   "c": A(lambda: np.zeros(k), tied=(0,))},
    "bptt.relative_error": {"a": A(lambda: np.ones((2, 3)), rank_free=True),
                            "b": A(lambda: np.ones((2, 3)), tied=(0, 1))},
    "bptt.numerical_gradient": {"name": Opt("W", ("U", "W", "V", "b", "c"))},
    "fixed_points.fixed_points_2d": {"b": A(lambda: np.zeros(2), tied=(0,))},
    "fixed_points.bifurcation": {"b": F(0.0)},
    "fixed_points.tanh_unit": {"w": F(1.5), "b": F(0.0)},
    "fixed_points.quadratic": {"c": F(-0.5)},
    "fixed_points.logistic_lyapunov": {"rs": A(lambda: np.array([2.5, 3.2])), "burn": I(10, 0),
                                       "steps": I(20)},
    "fixed_points.chaos_onset": {"lo": F(3.5), "hi": F(3.6), "step": F(0.01, 0, None, "(]"),
                                 "tol": F(0.01, 0, None, "[]")},
    "fixed_points.attracting_cycle": {"burn": I(50, 0)},
    "spectral.nonnormal": {"rho": F(0.9, 0, None, "(]"), "a": F(1.0)},
    "spectral.matrix": {"d": I(4)}, "spectral.gradient_norms_at_init": {"d": I(4), "T": I(5)},
    "spectral.step_jacobian": {"W": A(lambda: 0.5 * np.eye(d), tied=(0, 1)),
                               "h": A(lambda: np.zeros(d), tied=(0,))},
    "vanishing.reversal_accuracy": {"S": I(2), "d": I(4), "steps": I(2), "B": I(4), "k": I(3, 2)},
    "remedies.cliff_from_starts": {"n": I(4), "steps": I(3)},
    "vanishing.initialisation_norms": {"d": I(4), "T": I(5)},
    "vanishing.memory_ratios": {"T": I(5), "d": I(4), "B": I(2), "n": I(3)},
    "vanishing.reversal_lags": {"S": I(3)},
    "remedies.cliff_loss": {"w": A(lambda: np.array([1.5, 2.0]), rank_free=True),
                            "b": A(lambda: np.array([0.5, 0.5]), rank_free=True)},
    "remedies.cliff_grads": {"w": A(lambda: np.array([1.5, 2.0]), rank_free=True),
                             "b": A(lambda: np.array([0.5, 0.5]), rank_free=True)},
    "remedies.sigmoid": {"x": A(lambda: np.linspace(-2, 2, 5), rank_free=True, empty_ok=True)},
    "lstm.sigmoid": {"z": A(lambda: np.linspace(-2, 2, 5), rank_free=True, empty_ok=True)},
    "bptt.loss_function": {     # L(p) checks what needs p (n, d, k); the factory checks the rest
        "xs": A(xs_), "ys": Ids(ys_, None, tied=(0, 1)), "h0": A(lambda: np.zeros((B, d)), tied=(0,)),
        "c0": A(lambda: np.zeros((B, d)), tied=(0,))},
    "tasks.copy_task": {"S": I(2), "k": I(3, 2)},
    "tasks.streams": {"B": I(2)},
    "tasks.Vocab": {"tokens": Spec(lambda: list("abcab"), "object")},
    "tasks.Vocab.decode": {"ids": Ids(lambda: np.array([0, 1, 2]), 3, empty_ok=True)},   # "" decodes []
    "tasks.ngram_perplexity": {"order": Opt(1, (0, 1, 2))},
    "tasks.load_text": {"name": Opt("sonnets", ("sonnets",))},
    "tasks.tokenize": {"text": Text("to be or")},
    "architectures.bidirectional": {"V": A(lambda: np.ones((k, 2 * d)), tied=(1,)),
                                    "c": A(lambda: np.zeros(k), tied=(0,))},
    "architectures.one_to_many": {"p": Obj(lambda: rnn_p(n, n), wrong=lstm_p),
                                  "x": A(lambda: np.ones((B, n)), tied=(1,))},
    "architectures.encoder_decoder": {"dec": Obj(lambda: rnn_p(n, n), wrong=lstm_p),
                                      "start": Ids(lambda: 0, n, rank_free=True)},
    "architectures.predict": {"os": A(lambda: np.random.default_rng(4).normal(size=(T, B, k)),
                                      rank_free=True)},
    "lstm.LSTMParams": cell_params(4),
    "gru.GRUParams": cell_params(3) | {"bh": A(lambda: np.zeros(d), tied=(0,))},
    "fixed_points.Map": {"name": Text("a map"), "f": Fn(lambda: np.tanh),
                         "df": Fn(lambda: (lambda x: 1 - np.tanh(x) ** 2)), "lo": F(-1.0), "hi": F(1.0)},
    "losses.last_squared_error": {"os": A(lambda: np.ones((T, B, 1)), tied=(1, 2)),
                                  "ys": A(lambda: np.ones(B), tied=(0,))},
    "vanishing.copy_accuracy": {"p": Obj(lambda: rnn_p(4, 4), wrong=lstm_p),
                                "inputs": Ids(lambda: copy_data()[0], 4, tied=(0, 1)),
                                "targets": Ids(lambda: copy_data()[1], 4, tied=(0, 1)), "S": I(2)},
    "echo.train_truncated_stacked": {
        "nets": Keys(lambda: {"U": np.ones((2, d, n)), "W": np.zeros((2, d, d)), "V": np.ones((2, n, d)),
                              "b": np.zeros((2, d)), "c": np.zeros((2, n))}),
        "inputs": Ids(lambda: np.stack([stream()()] * 2), n, tied=(0, 1, 2)),
        "targets": Ids(lambda: np.stack([stream()()] * 2), n, tied=(0, 1, 2)),
        "mask": A(lambda: np.ones((2, 12, B)), tied=(0, 1, 2)), "T": I(3), "steps": I(2)},
    "memory.write_read_forget": {"values": A(lambda: np.array([1.0, 2.0, 3.0])),
                                 "write": A(lambda: np.array([1.0, 0.0, 0.0]), tied=(0,)),
                                 "forget": A(lambda: np.array([0.0, 0.0, 1.0]), tied=(0,)),
                                 "read": A(lambda: np.array([0.0, 1.0, 0.0]), tied=(0,))},
    "memory.gradient_ratios": {"T": I(5), "d": I(4), "B": I(2), "n": I(3)},
    "claims.spread": {"values": A(lambda: np.array([[1.0, 2.0], [3.0, 4.0]]), rank_free=True)},
    "claims.check": {"values": A(lambda: np.array([1.0, 2.0]), rank_free=True), "above": F(0.5),
                     "below": F(3.0),
                     "of": Text("seeds")},
    "claims.over_seeds": {"log": Fn(lambda: (lambda *a: None), none_ok=True)},
    "long_range.adding_problem": {"T": I(3, 2)},
    "stacked.Stack.scaled": {"factor": F(0.5, array_ok=True)},          # a number or one per seed, (S,)
    "stacked.Stack": {"arrays": Keys(lambda: dict(stack().items()))},
}

def copy_data():
    return _first("tasks.copy_task")(2, 2, B, 3)[:2]


MODULES["stacked_grads"] = MODULES["stacked"]
for _name in ("last_squared_error_grad",):
    FUNCTIONS[f"losses.{_name}"] = FUNCTIONS["losses.last_squared_error"]

# --- figures: valid typed results made by the compute functions, small ---------------------------

def _axes():
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def _cliff_grid():
    ws, bs = np.linspace(0, 10, 6), np.linspace(-8, 2, 5)
    return ws, bs, _first("vanishing.cliff_loss", "remedies.cliff_loss")(*np.meshgrid(ws, bs))


def Labels(make) -> Spec:
    return Spec(make, "object")


PLOTS: dict[str, Spec] = {
    "title": Text("t"), "xlabel": Text("x"), "ylabel": Text("y"), "sample": Text("to be"),
    "sample_label": Text("lm"), "fmt": Text("{:.0f}"), "cmap": Text("Blues"),
    "x": A(lambda: np.array([1.0, 2.0, 4.0]), tied=(0,)),
    "ys": Keys(lambda: {"a": np.array([1.0, 0.5, 0.25])}),
    "runs": Keys(lambda: {"a": np.ones((2, 3))}), "curves": Keys(lambda: {"a": np.ones((2, 3))}),
    "panels": Keys(lambda: {"one": {"a": np.arange(1.0, 4.0)}}),
    "reference": Keys(lambda: {"r": 1.0}, empty_ok=True), "styles": Keys(lambda: {"a": "o-"}, empty_ok=True),
    "log": Opt("y", (None, "y", "xy")), "show": Opt("points", ("points", "lines", "band")),
    "window": I(2), "ylim": Spec(lambda: (0.1, 10.0), "object"), "ax": Obj(_axes), "legend": BOOL_TRUE,
    "M": A(lambda: np.eye(2), tied=(0, 1)), "row_labels": Labels(lambda: list("ab")),
    "col_labels": Labels(lambda: list("ab")),            # "abc", a bad value, is 3 labels for 2 rows
    "errors": Keys(lambda: {"U": 1e-10, "W": 2e-10}), "threshold": F(1e-7, 0, None, "(]"),
    "B": A(lambda: np.array([1.0, 2.0, 4.0]), tied=(0,)),
    "msd": A(lambda: np.array([[10.0], [20.0]]) / np.array([1.0, 2.0, 4.0]) * 1.01, tied=(0, 1)),
    "trace_C": A(lambda: np.array([10.0, 20.0]), tied=(0,)), "band": Spec(lambda: (0.8, 1.25), "object"),
    "train_loss": A(lambda: np.ones((3, 80)), tied=(0,)),
    "val_steps": A(lambda: np.array([20, 40, 60, 80.0]), tied=(0,)),
    "val_loss": A(lambda: np.full((3, 4), 2.0), tied=(0, 1)), "baselines": Keys(lambda: {"bigram": 2.5}),
    "result": Obj(lambda: None), "r": Obj(lambda: _first("spectral.power_norms")(0.5 * np.eye(3), 4)),
    "rho": F(0.9, 0, None, "(]"),
    "diagrams": Keys(lambda: {"b = 0": _first("fixed_points.bifurcation")(np.linspace(0.5, 2, 4))}),
    "fwd": Obj(lambda: _first("lstm.forward")(lstm_p(), xs_())),
    "signals": Keys(lambda: {"x": np.ones(T)}), "z": A(lambda: np.linspace(-2, 2, 5), rank_free=True),
    "functions": Keys(lambda: {"tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2)}),
    "ws": A(lambda: _cliff_grid()[0], tied=(0,)), "bs": A(lambda: _cliff_grid()[1], tied=(0,)),
    "L": A(lambda: _cliff_grid()[2], tied=(0, 1)),
    "paths": Keys(lambda: {"free": np.array([[5.0, -3.0], [6.0, -2.0]])}),
    "starts": A(lambda: np.random.default_rng(0).uniform((4, -4.5), (7, -3), (3, 5, 2)), tied=(0, 1, 2)),
    "thrown": Spec(lambda: np.arange(15).reshape(3, 5) < 2, "object"),
    "shares": Keys(lambda: {"free": np.array([0.4, 0.4, 0.4])}),
}
MODULES["plots"] = PLOTS
FUNCTIONS.update({
    "plots.spectral.gradient_flow": {
        "result": Obj(lambda: _first("spectral.gradient_norms_at_init", "spectral.explorer")(d=4, T=5),
                      wrong=lambda: {"norm": [1.0]})},
    "plots.fixed_points.cobweb": {
        "result": Obj(lambda: _first("fixed_points.tanh_unit_trace")(steps=5),
                      wrong=lambda: {"orbit": [1.0]})},
    "plots.gates.memory_flow": {
        "result": Obj(lambda: _first("memory.gradient_ratios")(T=5, d=4, B=2, n=3),
                      wrong=lambda: {"t": [1]})},
    "plots.rnn.unrolled": {"T": I(4)},
    "plots.updatable.UpdatableFigure.refresh": {
        "result": Obj(lambda: _first("fixed_points.tanh_unit_trace")(steps=5, x0=0.1),
                      wrong=lambda: {"orbit": [1.0]})},
    "plots.updatable.UpdatableFigure.set_updater": {"update": Fn(lambda: (lambda r: True)),
                                                    "artists": Spec(lambda: [], "object")},
    "plots.primitives.seeds": {"log": BOOL_FALSE,
                               "x": A(lambda: np.array([1.0, 2.0, 4.0]), tied=(0,), labels_ok=True)},
    "plots.primitives.panels": {"log": BOOL_TRUE},
})


# --- explorers: a toy compute/draw pair over two slider positions ----------------------------------

def _toy_compute(a=1.0):
    return {"x": np.linspace(0, 1, 3), "y": a * np.linspace(0, 1, 3)}


def _toy_draw(result):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5), dpi=20)
    ax.plot(result["x"], result["y"])
    return fig


def _toy_controls():
    return (_first("controls.Control", "interactive.Control")("a", (1.0, 2.0), 1.0, "a"),)


EXPLORERS: dict[str, Spec] = {
    "compute": Fn(lambda: _toy_compute), "draw": Fn(lambda: _toy_draw),
    "controls": Obj(_toy_controls, wrong=lambda: ("a", "b")), "dpi": I(20), "colors": I(8),
    "progress": Fn(lambda: (lambda text: None)), "caption": Text("a caption"),
    "name": Text("a"), "values": Spec(lambda: (1.0, 2.0), "object"), "default": Spec(lambda: 1.0, "object"),
    "label": Text("a"), "fmt": Text("{}"), "value": Spec(lambda: 1.0, "object"),
    "result": Spec(lambda: {"x": [1.0, 2.0]}, "any"), "digits": I(3),
}
for _module in ("controls", "scrubbable", "interactive"):
    MODULES[_module] = EXPLORERS


# Instances whose public methods are called (keyed by class, "module.Class").
INSTANCES: dict[str, Callable] = {
    "cell.ParamSet": rnn_p,
    "tasks.Vocab": lambda: _first("tasks.Vocab")(list("abcab")),
    "stacked.Stack": stack,
    "plots.updatable.UpdatableFigure": lambda: _first("plots.fixed_points.cobweb")(
        _first("fixed_points.tanh_unit_trace")(steps=5)),
    "controls.Control": lambda: _toy_controls()[0],
    "scrubbable.Scrubbable": lambda: _first("scrubbable.Scrubbable")(_toy_compute, _toy_draw, _toy_controls(),
                                                                     dpi=20, colors=8),
    "interactive.WidgetExplorer": lambda: _first("interactive.WidgetExplorer")(_toy_compute, _toy_draw,
                                                                               _toy_controls()),
    "long_range.SeedRuns": lambda: _first("long_range.SeedRuns")("tanh", 3, seeds=(0,), d=3, batch=4,
                                                                 test_size=8),
}

# Frozen dataclasses count as typed results (made by the package, not tested) unless they check their
# fields; these are built by readers, so they are covered all the same.
READER_BUILT = {"fixed_points.Map": "a scalar map to iterate: readers build their own"}

# Callables left out, with the reason.
SKIP: dict[str, str] = {
    "plots.style": "the figure builders' validators (text, mapping, array, fields, ...): their messages name "
                   "the caller's argument, the name they are given; and use_style, which takes none",
    "plots.updatable.UpdatableFigure": "a matplotlib Figure subclass: its constructor is matplotlib's",
    "plots.updatable.UpdatableFigure.set": "matplotlib's generated Artist.set (keyword properties)",
    "controls.check_names": "a validator of the explorers: its messages name the caller's argument",
    "controls.check_explorer": "a validator of the explorers: its messages name the caller's argument",
    "controls.check_int": "a validator of the explorers: its messages name the caller's argument",
    "vanishing.reversal_experiment": "trains reversal_accuracy's defaults (d = 48, 300 steps) for each "
                                     "length; its arguments are reversal_accuracy's, covered there",
}

# --- H3 (issue 12): the gated cells' one-step Jacobians ---------------------------------------------
FUNCTIONS.update({
    "jacobians.lstm_step": {"p": Obj(lstm_p, wrong=gru_p)},
    "jacobians.gru_step": {"p": Obj(gru_p, wrong=lstm_p)},
    "jacobians.central_differences": {"p": Obj(lstm_p, wrong=rnn_p), "eps": F(1e-5, 0, None, "(]")},
    "jacobians.along_run": {"p": Obj(lstm_p, wrong=rnn_p), "xs": A(xs_, tied=(2,))},
    "memory.without_forget_gate": {"p": Obj(lstm_p, wrong=gru_p)},
    "memory.cell_state_sizes": {"T": I(5), "d": I(4), "B": I(2), "n": I(3)},
    "memory.jacobian_paths": {"T": I(5), "d": I(4), "B": I(2), "n": I(3)},
})

# --- H4 (issue 12): the GRU conventions of different texts and the translator -------------------------
_GRU_NAMES = ("pytorch", "cho_v1", "cho", "d2l", "chung", "colah", "ng", "ng_simple", "book_torch",
              "book_cho", "book_simple")


def _pytorch_gru_params():
    return {"U": np.ones((3 * d, n)), "W": 0.5 * np.ones((3 * d, d)), "b_ih": np.zeros(3 * d),
            "b_hh": np.zeros(3 * d)}


MODULES["gru_conventions"] = {
    "conv": Opt("pytorch", _GRU_NAMES), "source": Opt("pytorch", _GRU_NAMES),
    "target": Opt("book_torch", _GRU_NAMES), "params": Keys(_pytorch_gru_params),
    "p": Obj(gru_p, wrong=lstm_p), "x": A(lambda: xs_()[0], tied=(1,)),
    "h_prev": A(lambda: np.zeros((B, d)), tied=(0, 1)),
}

# --- H2 (issue 12): normal matrices, the free run from near 0, the 2-D phase portrait ----------------
FUNCTIONS.update({
    "spectral.normal": {"d": I(4)},
    "spectral.free_run": {"h0": A(lambda: np.full(d, 0.1), tied=(0,)), "T": I(5)},
    "fixed_points_2d.cubic_radius": {"a": A(lambda: np.array([1.1, 1.2]), rank_free=True)},
})
MODULES["fixed_points_2d"] = {
    "W": A(lambda: np.array([[0.9, -0.6], [0.6, 0.9]]), tied=(0, 1)),
    "b": A(lambda: np.zeros(2), tied=(0,)), "h0": A(lambda: np.array([0.1, 0.0]), tied=(0,)),
    "starts": A(lambda: np.array([[0.1, 0.0], [0.9, 0.9]]), tied=(1,)),
    "steps": I(3), "burn": I(5, 0), "tail": I(5), "grid": I(3, 2), "lim": F(1.0, 0, None, "(]"),
    "a": F(1.1, 0, None, "(]"), "theta": F(0.6),
    "point": Obj(lambda: _first("fixed_points.fixed_points_2d")(np.eye(2) * 1.5, np.zeros(2))[0],
                 wrong=lambda: (0.0, 0.0)),
}
FUNCTIONS["plots.fixed_points.phase_portrait"] = {
    "result": Obj(lambda: _first("fixed_points_2d.phase_portrait")(
        np.array([[0.9, -0.6], [0.6, 0.9]]), np.zeros(2), np.array([[0.1, 0.0]]), steps=3, grid=3, burn=5,
        tail=5), wrong=lambda: {"x": [0.0]})}

# --- H6 (issue 12): measurements along training (along_training) and their figure -------------------
def _tanh_model():
    return _first("long_range.init_model")("tanh", 3)


MODULES["along_training"] = {
    "p": Obj(_tanh_model, wrong=lambda: _first("long_range.init_model")("gru", 3)),
    "xs": A(lambda: np.random.default_rng(6).uniform(0, 1, (3, B, 2)), tied=(1, 2)),
    "y": A(lambda: np.ones(B), tied=(0,)),
    "runs": Obj(lambda: _first("long_range.SeedRuns")("tanh", 3, seeds=(0,), d=3, batch=2),
                wrong=lambda: _first("long_range.SeedRuns")("gru", 3, seeds=(0,), d=3, batch=2)),
    "steps": I(2), "every": I(1),
    "J": A(lambda: np.random.default_rng(7).normal(size=(2, 3, 3)), tied=(2,), rank_free=True),
}
FUNCTIONS.update({
    "along_training.rnn_step_jacobians": {"p": Obj(rnn_p, wrong=lstm_p), "xs": A(xs_, tied=(2,))},
    "along_training.lstm_step_jacobians": {"p": Obj(lstm_p, wrong=rnn_p), "xs": A(xs_, tied=(2,))},
    "plots.training.along_training": {
        "step": A(lambda: np.array([0.0, 20.0, 40.0]), tied=(0,)),
        "panels": Keys(lambda: {"ratio": ("ratio", True, {"a": np.ones((2, 3))})}),
        "reference": Keys(lambda: {"ratio": {"one": 1.0}}, empty_ok=True),
        "styles": Keys(lambda: {"a": "--"}, empty_ok=True)},
})
FUNCTIONS["gru.jacobian_paths"] = {"update_bias": F(0.0), "T": I(3), "d": I(3), "n": I(2), "B": I(2)}

# --- S1 (issue 11): the seq2seq digit tasks, padded batches, bucketing, and decoding ----------------
def _toy_step():
    table = np.log(np.array([[0.1, 0.5, 0.2, 0.2], [0.3, 0.3, 0.2, 0.2], [0.25, 0.25, 0.25, 0.25],
                             [0.4, 0.1, 0.1, 0.4]]))
    return _first("decoding.bigram_step")(table)


_SRC_IDS = lambda: np.array([[3, 4], [5, 6], [7, 0]])              # noqa: E731 (two sequences, 3 and 2)
_SRC_MASK = lambda: np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])  # noqa: E731
MODULES["seq2seq_data"] = {
    "text": Text("4711"), "source": Text("4711"), "task": Opt("reverse", ("reverse", "copy", "addition")),
    "count": I(4), "min_len": I(1), "max_len": I(3), "batch_size": I(2), "rng": RNG,
    "ids": Ids(_SRC_IDS, 14, tied=(0, 1)), "mask": A(_SRC_MASK, tied=(0, 1)),
    "sequences": Obj(lambda: [np.array([3, 4, 5]), np.array([6])], wrong=lambda: [np.array([3, 99])]),
    "sources": Obj(lambda: ["47", "1"], wrong=lambda: ["4a", "1"]),
    "targets": Obj(lambda: ["74", "1"], wrong=lambda: ["74"]), "reverse_source": BOOL_FALSE,
    "bucket": BOOL_TRUE,
    "lengths": Ids(lambda: np.array([3, 1, 2, 5, 4, 2]), None),
    "batches": Obj(lambda: [np.array([0, 1]), np.array([2, 3, 4, 5])], wrong=lambda: [np.array([0, 9])]),
}
FUNCTIONS["seq2seq_data.decode"] = {"ids": Ids(lambda: np.array([1, 5, 6, 2, 0]), 14, empty_ok=True)}
MODULES["decoding"] = {
    "step": Fn(_toy_step), "state0": Obj(lambda: np.zeros((1, 2)), wrong=lambda: np.zeros((2, 2))),
    "bos": I(0, minimum=0), "eos": I(1, minimum=0), "max_len": I(3), "width": I(2),
    "alpha": F(0.6, 0, None, "[]"), "temperature": F(1.0, 0, None, "(]"), "rng": RNG, "count": I(2),
    "length": I(3), "tokens": Ids(lambda: np.array([2, 3, 1]), 4),
    "state": Obj(lambda: (np.zeros((2, 3)), np.ones((2, 1))), wrong=lambda: (np.zeros((2, 3)), np.ones(3))),
    "index": Ids(lambda: np.array([1, 1, 0]), 2),
    "log_p": A(lambda: np.log(np.full((3, 3), 1 / 3)), tied=(0, 1)),
}
FUNCTIONS["decoding.greedy_batch"] = {
    "state0": Obj(lambda: np.zeros((3, 2)), wrong=lambda: (np.zeros((3, 2)), np.zeros((2, 2))))}
FUNCTIONS["seq2seq_data.lengths"] = {"mask": A(_SRC_MASK)}            # any (T, B) prefix mask is valid

# --- S2 (issue 11): the seq2seq encoder: embedding, masked GRU layer, stacked and bidirectional -------
_ENC_IDS = lambda: np.array([[3, 4], [2, 1], [1, 0]])                # noqa: E731 (lengths 3 and 2, V = 5)
_ENC_MASK = lambda: np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])  # noqa: E731
_GRU_MASK = lambda: np.array([[1.0, 1.0]] * 3 + [[1.0, 0.0]] * 2)   # noqa: E731 (T = 5, lengths 5 and 3)


def _enc_p():
    return _first("encoder.init_encoder")(5, 3, 4, layers=2, bidirectional=True, rng=0)


def _enc_out():
    return _first("encoder.encode")(_enc_p(), _ENC_IDS(), _ENC_MASK())


def _gru_layer():
    return _first("encoder.masked_gru")(gru_p(), xs_(), _GRU_MASK())


MODULES["encoder"] = {
    "V": I(5), "e": I(3), "d": I(4), "layers": I(2), "bidirectional": BOOL_TRUE, "rng": RNG,
    "p": Obj(_enc_p, wrong=gru_p), "ids": Ids(_ENC_IDS, 5, tied=(0, 1)), "mask": A(_ENC_MASK, tied=(0, 1)),
    "E": A(lambda: np.random.default_rng(0).normal(size=(5, 3)), tied=(1,)),
    "cells": Obj(lambda: _enc_p().cells, wrong=lambda: _enc_p().cells[:3]),
    "out": Obj(_enc_out, wrong=_gru_layer),
    "d_hs": A(lambda: np.ones((3, B, 8)), tied=(0, 1, 2)),
    "d_final": A(lambda: np.ones((2, B, 8)), tied=(0, 1, 2)),
    "d_xs": A(lambda: np.ones((3, B, 3)), tied=(0, 1, 2)),
    "state": Keys(lambda: _first("encoder.to_torch")(_enc_p())),
}
FUNCTIONS.update({
    "encoder.embed": {"E": A(lambda: np.ones((5, 3))), "ids": Ids(_ENC_IDS, 5)},   # any e, any (T, B)
    # the backward passes' mask: None is valid (no padding); bad arrays are refused by the check that
    # encode and masked_gru share, covered there
    "encoder.encode_backward": {"mask": Spec(_ENC_MASK, "any")},
    "encoder.masked_gru": {"p": Obj(gru_p, wrong=lstm_p), "mask": A(_GRU_MASK, tied=(0, 1))},
    "encoder.masked_gru_backward": {
        "p": Obj(gru_p, wrong=lstm_p), "mask": Spec(_GRU_MASK, "any"),
        "layer": Obj(_gru_layer, wrong=_enc_out), "d_hs": A(lambda: np.ones((T, B, d)), tied=(0, 1, 2))},
})
INSTANCES["encoder.EncoderParams"] = _enc_p
# --- end S2 -------------------------------------------------------------------------------------------

# --- S3 (issue 11): additive attention, the encoder-decoder with teacher forcing ----------------------
_S2S_SRC = lambda: np.array([[3, 4], [4, 3], [3, 0]])                      # noqa: E731 (lengths 3, 2)
_S2S_SRC_MASK = lambda: np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])     # noqa: E731
_S2S_IN = lambda: np.array([[1, 1], [3, 3], [3, 0]])                       # noqa: E731 (BOS y)
_S2S_OUT = lambda: np.array([[3, 3], [3, 2], [2, 0]])                      # noqa: E731 (y EOS)


def _s2s_p():
    return _first("seq2seq.init_seq2seq")(5, 4, 2, 3, a=2, rng=0)          # V_src 5, V_tgt 4, D = d_dec 3


def _att_p():
    return _first("attention.init_attention")(3, 4, 2, rng=0)             # d_q 3, D 4, a 2


def _att_hs():
    return np.random.default_rng(8).normal(size=(3, B, 4))


def _att_fwd():
    return _first("attention.forward")(_att_p(), np.full((B, 3), 0.1), _att_hs(), _S2S_SRC_MASK())


MODULES["attention"] = {
    "p": Obj(_att_p, wrong=gru_p), "d_q": I(3), "D": I(4), "a": I(2),
    "query": A(lambda: np.full((B, 3), 0.1), tied=(0, 1)), "hs": A(_att_hs, tied=(0, 1, 2)),
    "mask": A(_S2S_SRC_MASK, tied=(0, 1)), "keys": A(lambda: np.zeros((3, B, 2)), tied=(0, 1, 2)),
    "att": Obj(_att_fwd, wrong=_gru_layer), "d_context": A(lambda: np.ones((B, 4)), tied=(0, 1)),
    "d_weights": A(lambda: np.ones((3, B)), tied=(0, 1)),
}
FUNCTIONS.update({
    "attention.key_projection": {"hs": A(_att_hs, tied=(2,))},            # any S and B
    "attention.AttentionParams": {"W_a": A(lambda: np.ones((2, 3)), tied=(0,)),
                                  "U_a": A(lambda: np.ones((2, 4)), tied=(0,)),
                                  "v": A(lambda: np.ones(2), tied=(0,))},
    "seq2seq.Seq2SeqParams": {
        "enc": Obj(lambda: _s2s_p().enc, wrong=gru_p), "dec": Obj(lambda: _s2s_p().dec, wrong=lstm_p),
        "att": Obj(lambda: _s2s_p().att, wrong=gru_p), "E": A(lambda: _s2s_p().E, tied=(0, 1)),
        "W_s": A(lambda: _s2s_p().W_s, tied=(0, 1)), "b_s": A(lambda: _s2s_p().b_s, tied=(0,)),
        "V": A(lambda: _s2s_p().V, tied=(0, 1)), "c": A(lambda: _s2s_p().c, tied=(0,))},
    "seq2seq.forward": {"tgt_in": Ids(_S2S_IN, 4, tied=(1,))},            # any number of steps L
})
MODULES["seq2seq"] = {
    "p": Obj(_s2s_p, wrong=gru_p), "V_src": I(5), "V_tgt": I(4), "e": I(2), "d": I(3), "d_dec": I(3),
    "layers": I(1), "bidirectional": BOOL_FALSE, "attention": BOOL_TRUE, "a": I(2),
    "src_ids": Ids(_S2S_SRC, 5, tied=(0, 1)), "src_mask": A(_S2S_SRC_MASK, tied=(0, 1)),
    "tgt_in": Ids(_S2S_IN, 4, tied=(0, 1)), "tgt_out": Ids(_S2S_OUT, 4, tied=(0, 1)),
    "tgt_mask": A(_S2S_SRC_MASK, tied=(0, 1)),                            # the target lengths are 2, 1
    "batches": Spec(lambda: [(_S2S_SRC(), _S2S_SRC_MASK(), _S2S_IN(), _S2S_OUT(), _S2S_SRC_MASK())],
                    "object"),
    "steps": I(1), "log_every": I(1, minimum=0), "log": Fn(lambda: (lambda *a: None)),
}
INSTANCES["seq2seq.Seq2SeqParams"] = _s2s_p
# --- end S3 -------------------------------------------------------------------------------------------

# --- B (issue 11, round 2): chapter 9's figures (plots.seq2seq), small synthetic measurements --------
def _b_acc(*shape):
    return np.linspace(0.2, 0.9, int(np.prod(shape))).reshape(shape)


def _b_attention():
    return [(list("47"), ["7", "4", "<eos>"], np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]]))]


FUNCTIONS.update({
    "plots.seq2seq.accuracy_by_length": {"lengths": A(lambda: np.array([1.0, 2.0, 3.0]), tied=(0,)),
                                         "accuracy": Keys(lambda: {"plain": _b_acc(2, 3)})},
    "plots.seq2seq.exposure_bias": {"positions": A(lambda: np.array([1.0, 2.0, 3.0]), tied=(0,)),
                                    "teacher_forced": Keys(lambda: {"plain": _b_acc(2, 3)}),
                                    "free_running": Keys(lambda: {"plain": _b_acc(2, 3) / 2})},
    "plots.seq2seq.attention_maps": {"examples": Obj(_b_attention, wrong=lambda: [(list("47"), ["7"])])},
    "plots.seq2seq.beam_widths": {"widths": A(lambda: np.array([1.0, 2.0, 4.0]), tied=(0,)),
                                  "accuracy": Keys(lambda: {"attention": _b_acc(2, 3)})},
    "plots.seq2seq.conditions": {"accuracy": Keys(lambda: {"plain": _b_acc(3), "attention": _b_acc(3)}),
                                 "params": Keys(lambda: {"plain": 120}, empty_ok=True)},
    "plots.seq2seq.loss_curves": {"losses": Keys(lambda: {"plain": 1 + _b_acc(2, 6)}), "window": I(2)},
})
# --- end B --------------------------------------------------------------------------------------------

# --- coordinator (issue 11, round 2): the PyTorch fixture model as the book's parameters --------------
def _torch_f():
    return _first("data.torch_case")("seq2seq_model", "attention")


MODULES["seq2seq_torch"] = {
    "f": Obj(_torch_f, wrong=lambda: {"attention": True}), "name": Text("dec_gru.*"),
    "cases": Obj(lambda: ["plain"], wrong=lambda: ["no such case"]),
}
# --- end coordinator ----------------------------------------------------------------------------------

# --- C (issue 11, round 2): the beam-search explorer (seq2seq_explorer, plots.beam) ------------------
def _sx_p(attention=True):
    return _first("seq2seq.init_seq2seq")(14, 14, 3, 4, attention=attention, rng=0)   # seq2seq_data's V


MODULES["seq2seq_explorer"] = {
    "p": Obj(_sx_p, wrong=lambda: _sx_p(attention=False)), "source": Text("4711"), "width": I(2),
    "alpha": F(0.6, 0, None, "[]"), "reverse_source": BOOL_FALSE, "max_len": I(5),
    "task": Opt("reverse", ("reverse", "copy", "addition")),
    "sources": Obj(lambda: ["47", "1"], wrong=lambda: ["4a", "1"]),
    "widths": Seq(lambda: [1, 2], minimum=1), "default_width": I(2),
}
FUNCTIONS["plots.beam.beam_view"] = {
    "result": Obj(lambda: _first("seq2seq_explorer.beam_view")(_sx_p(), "47", 2),
                  wrong=lambda: {"hypotheses": ["1"]})}
# --- end C --------------------------------------------------------------------------------------------

# --- A (issue 11): chapter 9's experiments (seq2seq_experiments) and checks (seq2seq_checks) ---------
def _sx_settings():
    return _first("seq2seq_experiments.Settings")(max_len=3, d=2, e=2, batch=4, steps=1, train_pairs=8,
                                                   test_pairs=4)


def _tiny_s2s(attention=False):
    return _first("seq2seq.init_seq2seq")(14, 14, 1, 1, attention=attention, rng=0)   # 78 entries plain


def _sx_run():
    from recurrent.training import History
    return _first("seq2seq_experiments.Run")("plain", 0, _tiny_s2s(), History(np.zeros(1), np.zeros(1),
                                             np.zeros(0, int), np.zeros(0)), False)


def _sx_batch():
    return _first("seq2seq_data.make_batch")(["12", "4"], ["21", "4"])


def _sx_saved():
    import tempfile
    path = f"{tempfile.mkdtemp()}/m.npz"
    _first("seq2seq_checks.save_params")(_tiny_s2s(), path)
    return path


_SX = {
    "condition": Opt("plain", ("plain", "reversed", "stacked", "bidirectional", "attention")),
    "seed": I(0, minimum=0), "settings": Obj(_sx_settings, wrong=lambda: {"steps": 1}),
    "run": Obj(_sx_run, wrong=_tiny_s2s), "sources": Obj(lambda: ["12", "4"], wrong=lambda: ["1a", "4"]),
    "targets": Obj(lambda: ["21", "4"], wrong=lambda: ["21"]), "width": I(2),
    "alpha": F(0.5, 0, None, "[]"), "teacher_forced": BOOL_TRUE,
    "values": Obj(lambda: np.array([True, False]), wrong=lambda: np.ones((2, 2))),
    "lengths": Seq(lambda: [1, 2], minimum=1), "count": I(2),
    "log": Fn(lambda: (lambda *a: None), none_ok=True), "seeds": Seq(lambda: [0], minimum=0),
    "params": Obj(_tiny_s2s, wrong=gru_p), "p": Obj(_tiny_s2s, wrong=gru_p),
    "batch": Obj(_sx_batch, wrong=lambda: tuple(_sx_batch())[:4]), "eps": F(1e-4, 0, None, "(]"),
    "models": I(2), "V": I(4, minimum=2), "max_len": I(3), "widths": Seq(lambda: [1, 2], minimum=1),
    "rng": RNG, "scale": F(1.0, 0, None, "(]"), "search": I(300), "epsilon": F(0.5, 0, 1, "[]"),
    "meta": Keys(lambda: {"note": "x"}, empty_ok=True),
}
MODULES["seq2seq_experiments"] = _SX
MODULES["seq2seq_checks"] = _SX
FUNCTIONS.update({
    "seq2seq_experiments.Settings": {
        "task": Opt("reverse", ("reverse", "copy", "addition")), "min_len": I(1), "max_len": I(3), "d": I(2),
        "e": I(2), "batch": I(4), "steps": I(1), "lr": F(0.01, 0, None, "(]"), "clip": F(1.0, 0, None, "(]"),
        "train_pairs": I(8), "test_pairs": I(4)},
    "seq2seq_checks.beam_check": {"run": Obj(lambda: _sx_run()._replace(params=_tiny_s2s(True)),
                                             wrong=_tiny_s2s), "max_len": I(2)},
    "seq2seq_checks.beam_counterexample": {"V": I(5, minimum=2), "max_len": I(5)},   # a miss at model 142
    "seq2seq_checks.save_params": {"path": Spec(lambda: _sx_saved().replace("m.npz", "n.npz"), "text")},
    "seq2seq_checks.load_params": {"path": Spec(_sx_saved, "text")},
    "seq2seq_experiments.reference_model": {"path": Spec(lambda: None, "text")},   # None: the shipped one
    "data.model_path": {"name": Opt("seq2seq_reference", ("seq2seq_reference",))},
    "seq2seq_experiments.by_length": {"sources": Obj(lambda: ["12", "4"], wrong=lambda: ["12"])},  # any str
})
# --- end A --------------------------------------------------------------------------------------------
