"""IPython start-up file: make numpy's transcendental functions round differently, as another CPU would.

Installed by tests/test_portability.py into a temporary IPYTHONDIR, so that every notebook kernel
nbval starts runs it first. Each float64 result of tanh, exp, log, log1p and expm1 is multiplied by
(1 + 2**-52), which moves it by about one unit in the last place: the size of the differences between
numpy's AVX-512, AVX2, baseline and arm64 kernels. Results that every implementation returns
exactly (0 and +-1: exp(0), tanh of a large argument, log(1)) are left alone, as every CPU does.
A notebook whose stored outputs survive this prints nothing that depends on the last bits of a float,
whatever the reader's CPU computes there.
"""
import functools

import numpy as np

_NUDGE = 1.0 + 2.0 ** -52


def _nudged(ufunc):
    @functools.wraps(ufunc)
    def call(*args, **kwargs):
        out = ufunc(*args, **kwargs)
        if isinstance(out, np.ndarray) and out.dtype == np.float64:
            np.multiply(out, np.where(np.abs(out) == 1.0, 1.0, _NUDGE), out=out)
            return out
        if isinstance(out, float | np.float64) and abs(out) != 1.0:
            return type(out)(out * _NUDGE)
        return out
    return call


for _name in ("tanh", "exp", "log", "log1p", "expm1"):
    setattr(np, _name, _nudged(getattr(np, _name)))
