"""Shared test set-up: a deterministic hypothesis profile and a non-interactive matplotlib."""
import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# derandomize: the same examples on every run, so CI is reproducible; deadline off because a
# finite-difference check on the larger drawn shapes can take a few hundred milliseconds.
settings.register_profile("book", derandomize=True, deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("book")
