"""Time what a live widget does when a reader moves a control: compute the result, then redraw it.

    python benchmarks/widgets.py            every widget, into code/recurrent/data/benchmarks/widgets.json
    python benchmarks/widgets.py --quick    fewer repeats

Every explorer of the book is three things (see ``recurrent.interactive``): ``compute(**values)``,
``draw(result) -> Figure`` and the ``Control``s. ``WIDGETS`` lists them by import path; a later
chapter adds its line there. An entry whose module does not exist (yet) is reported as skipped.

Each widget is timed at three settings: ``default`` (every control at its default), ``largest``
(every numeric control at its largest value) and ``slowest`` (the combination of control values
whose compute step was slowest in one pass over all combinations). For each the report gives the
median of: ``compute``; ``draw`` (building the figure); ``canvas`` (fig.canvas.draw(), rendering
with Agg); ``png`` (savefig to an in-memory PNG, what a notebook's inline display does, which
renders again); ``rebuild`` = compute + draw + png, a new figure for every move of a control;
``update``: what ``interactive.WidgetExplorer`` does when a reader moves a control away from the
other setting to this one: compute, put the result on the existing figure (``refresh``) and render
only the changed artists over the cached background to PNG (``png``), falling back to a rebuild when
the figure cannot take the result; and ``redraw`` = update, the time from moving a control to a new
image. Targets: compute < 50 ms, redraw < 200 ms. BLAS runs on one thread, as in cells.py.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import io
import itertools
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

try:                                     # one BLAS thread, decided before numpy loads
    from threadpoolctl import threadpool_limits
except ImportError:
    threadpool_limits = None
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "code"))

# (name, compute, draw, controls): "module:attribute" inside the package recurrent.
WIDGETS = [
    ("ch3 spectral.gradient_norms_at_init", "spectral:gradient_norms_at_init", "plots:gradient_flow",
     "spectral:CONTROLS"),
    ("ch4 fixed_points.tanh_unit_trace", "fixed_points:tanh_unit_trace", "plots:cobweb",
     "fixed_points:CONTROLS"),
    ("ch6 memory.gradient_ratios", "memory:gradient_ratios", "plots:memory_flow", "memory:CONTROLS"),
]
COMPUTE_TARGET_MS, REDRAW_TARGET_MS = 50.0, 200.0


def resolve(path: str):
    module, attribute = path.split(":")
    return getattr(importlib.import_module(f"recurrent.{module}"), attribute)


def settings(compute, controls, max_combinations: int = 400, passes: int = 3) -> dict:
    """The control values to time: defaults, largest numeric values, and the slowest combination.

    The slowest is the combination with the largest median compute time over ``passes`` passes.
    """
    default = {c.name: c.default for c in controls}
    largest = default | {c.name: max(c.values) for c in controls if c.numeric}
    combos = [dict(zip([c.name for c in controls], combo))
              for combo in itertools.product(*[c.values for c in controls])][:max_combinations]
    took = [[] for _ in combos]
    for _ in range(passes):
        for values, times in zip(combos, took):
            start = time.perf_counter()
            compute(**values)
            times.append(time.perf_counter() - start)
    slowest = max(range(len(combos)), key=lambda j: statistics.median(took[j]))
    return {"default": default, "largest": largest, "slowest": combos[slowest]}


def time_update(compute, draw, values: dict, other: dict) -> float:
    """ms for what the live view does when a control moves from ``other`` to ``values``."""
    from recurrent.plots import UpdatableFigure

    fig = draw(compute(**other))
    fig.png() if isinstance(fig, UpdatableFigure) else fig.canvas.draw()     # as shown before the move
    t0 = time.perf_counter()
    result = compute(**values)
    if not (isinstance(fig, UpdatableFigure) and fig.refresh(result)):
        plt.close(fig)
        fig = draw(result)
    if isinstance(fig, UpdatableFigure):
        fig.png()
    else:
        fig.savefig(io.BytesIO(), format="png")
    t1 = time.perf_counter()
    plt.close(fig)
    return (t1 - t0) * 1e3


def time_once(compute, draw, values: dict) -> dict:
    t0 = time.perf_counter()
    result = compute(**values)
    t1 = time.perf_counter()
    fig = draw(result)
    t2 = time.perf_counter()
    fig.canvas.draw()
    t3 = time.perf_counter()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    t4 = time.perf_counter()
    plt.close(fig)
    ms = lambda a, b: (b - a) * 1e3
    return {"compute": ms(t0, t1), "draw": ms(t1, t2), "canvas": ms(t2, t3), "png": ms(t3, t4),
            "rebuild": ms(t0, t2) + ms(t3, t4), "png_bytes": len(buf.getvalue())}


def neighbour(controls, values: dict) -> dict:
    """``values`` with the first control moved one step (the setting a reader comes from)."""
    c = controls[0]
    i = c.values.index(values[c.name])
    return values | {c.name: c.values[i - 1 if i > 0 else 1]}


def time_widget(compute, draw, controls, repeats: int) -> dict:
    out = {}
    for label, values in settings(compute, controls).items():
        time_once(compute, draw, values)                        # warm-up (imports, font cache)
        runs = [time_once(compute, draw, values) for _ in range(repeats)]
        other = neighbour(controls, values)
        time_update(compute, draw, values, other)
        updates = [time_update(compute, draw, values, other) for _ in range(repeats)]
        for r, u in zip(runs, updates):
            r["update"] = r["redraw"] = u
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        plain = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}
        out[label] = {"values": plain, "median_ms": med, "repeats": repeats,
                      "compute_ok": med["compute"] < COMPUTE_TARGET_MS,
                      "redraw_ok": med["redraw"] < REDRAW_TARGET_MS}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="5 repeats instead of 15")
    ap.add_argument("--out", type=Path, default=None,
                    help="default: recurrent.data.benchmark_path('widgets')")
    args = ap.parse_args(argv)
    repeats = 5 if args.quick else 15
    limits = threadpool_limits(limits=1) if threadpool_limits else None
    from recurrent import data, plots
    plots.use_style()
    out = args.out or data.benchmark_path("widgets")
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": {"platform": platform.platform(), "python": sys.version.split()[0],
                          "numpy": np.__version__, "matplotlib": matplotlib.__version__,
                          "backend": matplotlib.get_backend(), "logical_cpus": os.cpu_count(),
                          "blas_threads": 1},
              "targets_ms": {"compute": COMPUTE_TARGET_MS, "redraw": REDRAW_TARGET_MS}, "widgets": {}}
    print(f"{'widget':36} {'setting':8} | {'compute':>8} {'draw':>7} {'canvas':>7} {'png':>7} "
          f"{'rebuild':>7} {'update':>7} ms | targets")
    try:
        for name, compute, draw, controls in WIDGETS:
            try:
                compute, draw, controls = resolve(compute), resolve(draw), resolve(controls)
            except (ImportError, AttributeError) as e:
                result["widgets"][name] = {"skipped": f"{type(e).__name__}: {e}"}
                print(f"{name:36} skipped: {e}")
                continue
            timings = time_widget(compute, draw, controls, repeats)
            result["widgets"][name] = timings
            for label, t in timings.items():
                m = t["median_ms"]
                marks = (f"compute {'ok' if t['compute_ok'] else 'MISSED'}, "
                         f"redraw {'ok' if t['redraw_ok'] else 'MISSED'}")
                print(f"{name:36} {label:8} | {m['compute']:8.1f} {m['draw']:7.1f} {m['canvas']:7.1f} "
                      f"{m['png']:7.1f} {m['rebuild']:7.1f} {m['update']:7.1f}    | {marks}   {t['values']}",
                      flush=True)
    finally:
        if limits is not None:
            limits.restore_original_limits()
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
