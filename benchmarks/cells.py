"""Time the book's numpy RNN, LSTM and GRU (forward + full BPTT) against PyTorch, at one thread each.

    python benchmarks/cells.py                       every case, writes recurrent/data/benchmarks/cells.json
    python benchmarks/cells.py --quick               fewer repeats, no large LSTM/GRU (about a minute)
    python benchmarks/cells.py --only rnn:middle     just the cases whose "cell:size:dtype" contains it

One measured call is what a training step needs: the forward pass, the loss (softmax cross-entropy of
the output layer at every step, summed over time and averaged over the batch) and the gradient of
every parameter. numpy: ``bptt.loss_and_grads``, the one call of every cell (RNN, LSTM, "torch" GRU);
PyTorch: torch.nn.RNN / LSTM / GRU + torch.nn.Linear + autograd, with the same weights and data
(checked: the losses and gradients agree). Samples alternate numpy, torch, numpy, torch, ...; the
report gives the median time of each and the median of the per-pair ratios numpy / torch, which is
robust to a machine that other work slows down for a while.

Both libraries run on one thread: numpy's BLAS through threadpoolctl (``pip install threadpoolctl``;
without it the *_NUM_THREADS variables are set to 1 before numpy loads), torch through
``torch.set_num_threads(1)``. The script also measures the machine's one-thread matmul peak (best of
several large square products, numpy's BLAS) and reports for every numpy run the achieved GFLOP/s of
its matrix products, counted analytically (see ``matmul_flops``), as a fraction of that peak.
Without torch the script times numpy alone and says so.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

try:                                     # must be decided before numpy loads its BLAS
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:
    threadpool_limits = threadpool_info = None
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "code"))   # run from a checkout, too
from recurrent import bptt, data, gru, lstm, rnn  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

SIZES = {"small": dict(n=27, d=32, T=25, B=1), "middle": dict(n=65, d=128, T=100, B=32),
         "large": dict(n=65, d=512, T=100, B=64)}
BLOCKS = {"rnn": 1, "lstm": 4, "gru": 3}
DTYPES = ("float64", "float32")

# Targets from the project's issue 6: the median ratio numpy / torch, the fraction of the matmul peak,
# and the time per step. Keys: (cell, size, dtype or None for both).
RATIO_TARGETS = {
    ("rnn", "small", None): 0.25, ("rnn", "middle", "float64"): 0.85, ("rnn", "middle", "float32"): 0.75,
    ("rnn", "large", None): 0.95,
    ("lstm", "middle", "float64"): 1.1, ("lstm", "middle", "float32"): 1.5, ("lstm", "small", "float64"): 0.3,
    ("gru", "middle", "float64"): 1.1, ("gru", "middle", "float32"): 1.5, ("gru", "small", "float64"): 0.3,
}
PEAK_TARGETS = {("rnn", "middle", None): 0.40}
STEP_TARGETS_US = {("rnn", "small", None): 10.0}


def target(table: dict, cell: str, size: str, dtype: str):
    return table.get((cell, size, dtype), table.get((cell, size, None)))


def matmul_flops(cell: str, n: int, d: int, T: int, B: int, k: int) -> int:
    """Floating-point operations of the matrix products of one forward + backward pass.

    With G blocks (RNN 1, GRU 3, LSTM 4) and R = T B rows, a product (R, a) @ (a, b) costs 2 R a b.
    Forward: U x_t (n -> G d), W h_{t-1} (d -> G d), V h_t (d -> k). Backward: every weight gets its
    gradient from one product of the same size, and the gradient flows back through W and V (not
    through U: the inputs need no gradient). So 2 R (2 G d n + 3 G d d + 3 k d). Elementwise work and
    the GRU's recomputation of W_n h_{t-1} in the backward pass are not counted.
    """
    G = BLOCKS[cell]
    return 2 * T * B * (2 * G * d * n + 3 * G * d * d + 3 * k * d)


def make_case(cell: str, n: int, d: int, T: int, B: int, dtype: str, seed: int = 0):
    """Parameters, one-hot inputs xs: (T, B, n) and next-character targets ys: (T, B), as the book's."""
    k = n
    if cell == "rnn":
        p = rnn.init_params(n, d, k, rng=seed, dtype=dtype)
    elif cell == "lstm":
        p = lstm.init_lstm(n, d, k, rng=seed, dtype=dtype)
    else:
        p = gru.init_gru(n, d, k, variant="torch", rng=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    ids = rng.integers(0, n, (T + 1, B))
    xs = np.eye(n, dtype=dtype)[ids[:-1]]
    ys = ids[1:]
    return p, xs, ys


def numpy_call(cell: str, p, xs, ys):
    return lambda: bptt.loss_and_grads(p, xs, ys)


def torch_model(cell: str, p, xs, ys):
    """torch.nn.RNN/LSTM/GRU + Linear holding p's weights; returns (call, parameters by book symbol)."""
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    tdtype = {"float64": torch.float64, "float32": torch.float32}[str(p.W.dtype)]
    net = module(p.n, p.d, dtype=tdtype)
    linear = torch.nn.Linear(p.d, p.k, dtype=tdtype)
    state = {"rnn": rnn, "lstm": lstm, "gru": gru}[cell].to_torch(p)
    with torch.no_grad():
        for name, value in state.items():
            owner, key = (linear, name.split(".")[1]) if name.startswith("linear.") else (net, name)
            getattr(owner, key).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    X, Y = torch.from_numpy(xs), torch.from_numpy(ys.reshape(-1))
    params = [*net.parameters(), *linear.parameters()]
    T, B, _ = xs.shape

    def call():
        for q in params:
            q.grad = None
        hs, _ = net(X)
        loss = torch.nn.functional.cross_entropy(linear(hs).reshape(T * B, -1), Y, reduction="sum") / B
        loss.backward()
        return loss

    return call, net, linear


def agreement(cell, p, np_result, torch_loss, net, linear) -> float:
    """Largest relative difference between numpy's and torch's loss and gradients."""
    loss, grads, _ = np_result
    theirs = {"U": net.weight_ih_l0.grad, "W": net.weight_hh_l0.grad, "V": linear.weight.grad,
              "c": linear.bias.grad}
    ours = {"U": grads.U, "W": grads.W, "V": grads.V, "c": grads.c}
    worst = abs(loss - torch_loss.item()) / max(abs(loss), 1e-30)
    for s, g in ours.items():
        t = theirs[s].numpy()
        worst = max(worst, float(np.abs(g - t).max() / max(np.abs(t).max(), 1e-30)))
    return worst


def sample(fn, number: int, cpu: list | None = None) -> float:
    """Wall seconds per call of ``number`` back-to-back calls, with the garbage collector off.

    If ``cpu`` is a list, the process's CPU seconds per call are appended to it: on a busy machine
    wall time exceeds CPU time when the process waits for a core.
    """
    gc_was = gc.isenabled()
    gc.disable()
    try:
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            fn()
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) / number)
        return (time.perf_counter() - start) / number
    finally:
        if gc_was:
            gc.enable()


def calibrate(fn, min_seconds: float) -> int:
    """How many calls make one sample last about ``min_seconds``."""
    fn()
    once = sample(fn, 1)
    return max(1, int(min_seconds / max(once, 1e-7)))


def interleaved(fa, fb, pairs: int, min_seconds: float) -> dict:
    """Time A and B alternately: A B A B ...; medians of each and of the per-pair ratios A / B."""
    na, nb = calibrate(fa, min_seconds), (calibrate(fb, min_seconds) if fb else 0)
    ta, tb, ca, cb = [], [], [], []
    for i in range(pairs):
        order = [(fa, na, ta, ca), (fb, nb, tb, cb)] if fb else [(fa, na, ta, ca)]
        if i % 2:                        # alternate which one goes first, too
            order.reverse()
        for fn, number, out, cpu in order:
            out.append(sample(fn, number, cpu))
    res = {"numpy_s": statistics.median(ta), "numpy_cpu_s": statistics.median(ca), "numpy_samples_s": ta,
           "numpy_calls_per_sample": na}
    if fb:
        ratios = [a / b for a, b in zip(ta, tb)]
        res |= {"torch_s": statistics.median(tb), "torch_cpu_s": statistics.median(cb), "torch_samples_s": tb,
                "torch_calls_per_sample": nb, "ratio": statistics.median(ratios), "ratios": ratios}
    return res


def matmul_peak(dtype: str, size: int, repeats: int) -> dict:
    """Best GFLOP/s of ``repeats`` (size, size) @ (size, size) products with numpy at one thread."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(sample(lambda: np.matmul(a, b, out=out), 1) for _ in range(repeats))
    return {"size": size, "repeats": repeats, "best_s": best, "gflops": 2 * size**3 / best / 1e9}


def dtypes_propagate(cell, p, xs, ys, dtype) -> dict:
    """Whether the numpy pass keeps the parameters' dtype everywhere (no silent float64)."""
    _, grads, fwd = numpy_call(cell, p, xs, ys)()
    arrays = {"hs": fwd.hs, "os": fwd.os} | {f"d{s}": g for s, g in grads.items()}
    wrong = {name: str(a.dtype) for name, a in arrays.items() if a.dtype != np.dtype(dtype)}
    return {"ok": not wrong, "wrong": wrong}


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"platform": platform.platform(), "cpu": cpu, "logical_cpus": os.cpu_count(),
            "python": sys.version.split()[0], "numpy": np.__version__,
            "torch": torch.__version__ if torch else None,
            "torch_parallel_info": torch.__config__.parallel_info() if torch else None,
            "env": {v: os.environ.get(v) for v in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                                   "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    if hasattr(os, "getloadavg"):
        info["load_average_at_start"] = os.getloadavg()
    return info


def blas_info() -> list:
    if threadpool_info is None:
        return [{"note": "threadpoolctl not installed; *_NUM_THREADS=1 set before numpy was imported"}]
    return [{k: v for k, v in lib.items() if k in ("user_api", "internal_api", "prefix", "version",
                                                     "architecture", "num_threads", "threading_layer")}
            for lib in threadpool_info()]


def check_targets(r: dict) -> dict:
    checks = {}
    key = (r["cell"], r["size"], r["dtype"])
    if (t := target(RATIO_TARGETS, *key)) is not None and "ratio" in r:
        checks["ratio"] = {"target": t, "value": r["ratio"], "ok": r["ratio"] <= t}
    if (t := target(PEAK_TARGETS, *key)) is not None:
        checks["peak_fraction"] = {"target": t, "value": r["peak_fraction"], "ok": r["peak_fraction"] >= t}
    if (t := target(STEP_TARGETS_US, *key)) is not None:
        value = r["numpy_us_per_step"]
        checks["us_per_step"] = {"target": t, "value": value, "ok": value <= t}
    return checks


def run(args) -> dict:
    quick = args.quick
    pairs, min_seconds = (7, 0.05) if quick else (21, 0.1)
    peak_size, peak_repeats = (1024, 3) if quick else (2048, 5)
    use_torch = torch is not None and not args.no_torch
    if use_torch:
        torch.set_num_threads(1)
    result = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "quick": quick, "machine": machine_info(), "torch_available": torch is not None,
              "compared_with_torch": use_torch,
              "method": {"pairs": pairs, "min_seconds_per_sample": min_seconds,
                         "order": "numpy and torch alternate, and which goes first alternates per pair",
                         "flops": matmul_flops.__doc__.split("\n\n")[0].strip()},
              "peak": {}, "cases": []}
    if not use_torch:
        print("torch is not importable: timing numpy only, no ratios (pip install torch==2.13.0 to compare)")
    limits = threadpool_limits(limits=1) if threadpool_limits else None
    try:
        result["blas"] = blas_info()
        result["threads"] = {"numpy_blas": [lib.get("num_threads") for lib in result["blas"]],
                             "torch": torch.get_num_threads() if use_torch else None,
                             "torch_interop": torch.get_num_interop_threads() if use_torch else None}
        for dtype in DTYPES:
            result["peak"][dtype] = matmul_peak(dtype, peak_size, peak_repeats)
            print(f"1-thread matmul peak {dtype}: {result['peak'][dtype]['gflops']:.1f} GFLOP/s "
                  f"({peak_size}x{peak_size}, best of {peak_repeats})", flush=True)
        cases = [(cell, size, dtype) for cell in BLOCKS for size in SIZES for dtype in DTYPES
                 if not (quick and cell != "rnn" and size == "large")]
        cases = [c for c in cases if not args.only or any(o in ":".join(c) for o in args.only)]
        print(HEADER)
        for cell, size, dtype in cases:
            s = SIZES[size]
            p, xs, ys = make_case(cell, **s, dtype=dtype)
            fa = numpy_call(cell, p, xs, ys)
            r = {"cell": cell, "size": size, "dtype": dtype,
                 **s, "k": p.k, "dtypes": dtypes_propagate(cell, p, xs, ys, dtype)}
            fb = None
            if use_torch:
                fb, net, linear = torch_model(cell, p, xs, ys)
                r["max_rel_diff_vs_torch"] = agreement(cell, p, fa(), fb(), net, linear)
            r |= interleaved(fa, fb, pairs, min_seconds)
            r["matmul_flops"] = flops = matmul_flops(cell, **s, k=p.k)
            r["numpy_gflops"] = flops / r["numpy_s"] / 1e9
            r["peak_fraction"] = r["numpy_gflops"] / result["peak"][dtype]["gflops"]
            r["numpy_us_per_step"] = r["numpy_s"] / s["T"] * 1e6
            if use_torch:
                r["torch_gflops"] = flops / r["torch_s"] / 1e9
            r["targets"] = check_targets(r)
            result["cases"].append(r)
            print(row(r), flush=True)
    finally:
        if limits is not None:
            limits.restore_original_limits()
    if hasattr(os, "getloadavg"):
        result["machine"]["load_average_at_end"] = os.getloadavg()
    return result


HEADER = (f"{'cell':5} {'size':6} {'dtype':7} | {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} | "
          f"{'us/step':>8} {'GFLOP/s':>8} {'%peak':>6} | targets")


def row(r: dict) -> str:
    torch_ms = f"{r['torch_s'] * 1e3:9.3f}" if "torch_s" in r else f"{'-':>9}"
    ratio = f"{r['ratio']:6.2f}" if "ratio" in r else f"{'-':>6}"
    marks = []
    for name, c in r["targets"].items():
        op = ">=" if name == "peak_fraction" else "<="
        marks.append(f"{name} {op} {c['target']:g}: {'ok' if c['ok'] else 'MISSED'}")
    if not r["dtypes"]["ok"]:
        marks.append(f"DTYPE NOT KEPT {r['dtypes']['wrong']}")
    return (f"{r['cell']:5} {r['size']:6} {r['dtype']:7} | {r['numpy_s'] * 1e3:9.3f} {torch_ms} {ratio} | "
            f"{r['numpy_us_per_step']:8.1f} {r['numpy_gflops']:8.2f} {r['peak_fraction'] * 100:5.1f}% | "
            + "; ".join(marks))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter samples; no large LSTM/GRU")
    ap.add_argument("--out", type=Path, default=data.benchmark_path("cells"), help="where to write the JSON")
    ap.add_argument("--only", action="append", help='run cases whose "cell:size:dtype" contains this')
    ap.add_argument("--no-torch", action="store_true", help="time numpy alone even if torch is installed")
    args = ap.parse_args(argv)
    result = run_and_print(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


def run_and_print(args) -> dict:
    result = run(args)
    missed = [f"{c['cell']}:{c['size']}:{c['dtype']} {name}" for c in result["cases"]
              for name, t in c["targets"].items() if not t["ok"]]
    print(f"\n{len(missed)} target(s) missed" + (": " + ", ".join(missed) if missed else ""))
    if not result["compared_with_torch"]:
        print("NOTE: numpy only, torch was not importable (or --no-torch): no ratios were measured")
    return result


if __name__ == "__main__":
    sys.exit(main())
