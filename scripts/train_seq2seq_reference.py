"""Write code/recurrent/data/seq2seq_reference.npz: chapter 9's reference model.

It is ``seq2seq_experiments.train_run("attention", 0)`` with ``SETTINGS``, stored with its settings,
condition, seed, a hash of its training pairs and its training history, so that the chapter's
illustrations that print numbers (beam tables, the explorer) use the same weights on every CPU;
``seq2seq_experiments.reference_model()`` refuses the file once any of these changes in the code.
Re-run after changing SETTINGS, CONDITIONS["attention"], the task generator or the training code:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python scripts/train_seq2seq_reference.py
"""
import time

import numpy as np

from recurrent import data
from recurrent import seq2seq_experiments as X


def main() -> None:
    start = time.perf_counter()
    run = X.train_run("attention", 0)
    path = X.save_params(run.params, data.model_path("seq2seq_reference"), X.reference_meta(run))
    loaded = X.reference_model()
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(run.params.items(), loaded.params.items()))
    sources, targets = X.test_pairs(0)
    accuracy = X.exact_match(loaded, sources, targets).mean()
    print(f"wrote {path} ({path.stat().st_size} bytes, {X.count_params(run.params)} parameters) in "
          f"{time.perf_counter() - start:.1f} s; greedy exact match on test_pairs(0): {accuracy:.3f}")


if __name__ == "__main__":
    main()
