"""Central differences for the tests: the reference every derivative in the package is checked against."""
import numpy as np


def finite_difference(f, a, eps=1e-5):
    """Central differences (f(a + eps e_i) - f(a - eps e_i)) / (2 eps) of the scalar f(a), for every
    entry i of the array a; same shape as a."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[i] = eps
        g[i] = (f(a + e) - f(a - e)) / (2 * eps)
    return g
