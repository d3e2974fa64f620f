"""The data the notebooks and tests read, shipped inside the package (so it is there after
``pip install .`` too, and a notebook needs no path to the repository's other folders).

    sonnets.txt             the text of chapter 2 (read by ``tasks.load_text``)
    torch/rnn.npz           torch.nn.RNN + Linear and autograd on fixed data, cases "small", "medium"
                            (written by scripts/make_torch_fixtures.py)
    torch/gates.npz         torch.nn.LSTM / GRU, cases "lstm_small", "lstm_medium", "gru_small",
                            "gru_medium" (written by scripts/make_torch_gate_fixtures.py)
    torch/seq2seq_*.npz     torch.nn.Embedding + GRU on packed batches ("seq2seq_encoder"), one additive-
                            attention step ("seq2seq_attention"), the teacher-forced encoder-decoder
                            ("seq2seq_model") (written by scripts/make_torch_seq2seq_fixtures.py)
    seq2seq_reference.npz   the chapter-9 reference model: seq2seq_experiments.train_run("attention", 0),
                            stored with its settings (written by scripts/train_seq2seq_reference.py)
    benchmarks/<name>.json  the benchmark results: "cells" (benchmarks/cells.py), "widgets"
                            (benchmarks/widgets.py), "book" (benchmarks/book.py)

Each fixture stores its arrays under "<case>/<key>" and the torch version under "torch_version".
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np

from .._checks import one_of

FIXTURES = ("rnn", "gates", "seq2seq_encoder", "seq2seq_attention", "seq2seq_model")
BENCHMARKS = ("cells", "widgets", "book")
MODELS = ("seq2seq_reference",)


def _path(*parts: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(*parts)))


def _fixture(fixture: str):
    return np.load(_path("torch", f"{one_of('fixture', fixture, FIXTURES)}.npz"))


def torch_cases(fixture: str) -> list:
    """The names of the cases stored in ``fixture`` (one of ``FIXTURES``)."""
    with _fixture(fixture) as f:
        return sorted({key.split("/", 1)[0] for key in f.files if "/" in key})


def torch_case(fixture: str, case: str) -> dict:
    """One case of a PyTorch fixture: {key: array}, e.g. ``torch_case("rnn", "medium")["xs"]``.

    The keys are PyTorch's parameter names (``weight_ih_l0``, ...), the data (``xs``, ``ys``, ``h0``,
    ...), the results (``loss``, ``hs``, ``grad_<name>``).
    """
    one_of("case", case, torch_cases(fixture))
    with _fixture(fixture) as f:
        return {key.split("/", 1)[1]: f[key] for key in f.files if key.startswith(case + "/")}


def torch_version(fixture: str) -> str:
    """The torch version that wrote ``fixture``."""
    with _fixture(fixture) as f:
        return str(f["torch_version"])


def torch_fixture_path(fixture: str) -> Path:
    """Where ``fixture`` lives (the scripts that make it write there)."""
    return _path("torch", f"{one_of('fixture', fixture, FIXTURES)}.npz")


def model_path(name: str) -> Path:
    """Where the stored model ``name`` (one of ``MODELS``) lives: an .npz of ``save_params``."""
    return _path(f"{one_of('name', name, MODELS)}.npz")


def benchmark_path(name: str) -> Path:
    """Where the benchmark ``name`` ("cells", "widgets", "book") keeps its JSON results."""
    return _path("benchmarks", f"{one_of('name', name, BENCHMARKS)}.json")


def benchmark(name: str) -> dict:
    """The last results of benchmark ``name`` ("cells", "widgets" or "book"), as written by its script."""
    return json.loads(benchmark_path(name).read_text(encoding="utf-8"))
