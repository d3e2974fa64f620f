"""Chapter 3's figures: the gradient through time beside the spectrum of W, and powers of W."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .primitives import curves
from .style import COLORS, fields, number, plain_log_labels, text
from .updatable import UpdatableFigure

FLOOR = 1e-45          # the explorer's y axis spans 1e-45 to 1e20


def gradient_flow(result):
    """Chapter 3's explorer: ||dL/dh_k|| against k (log scale) beside the spectrum of W.

    ``result``: a ``spectral.GradientNormsAtInit`` (fields k, norm, rho_ref, sigma_bound,
    singular_values, eigenvalues, family, rho, activation, T). The figure is an ``UpdatableFigure``:
    an explorer puts a new result of the same T and d on it in place.
    """
    fields("result", result, "k", "norm", "rho_ref", "sigma_bound", "singular_values", "eigenvalues",
           "family", "rho", "activation", "T")
    # Fixed margins instead of constrained layout, and no mathtext in strings that change from frame
    # to frame: both make a redraw several times faster, which matters for live sliders and for
    # rendering every frame of the kernel-free version.
    fig = plt.figure(FigureClass=UpdatableFigure, figsize=(8.4, 3.4), layout="none")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    norm, = left.plot(result.k, np.clip(result.norm, FLOOR, None), color=COLORS["h"], lw=2, label="‖∂L/∂hₖ‖")
    rho_ref, = left.plot(result.k, result.rho_ref, "--", color=COLORS["grey"], lw=1, label="ρ^(T−k)")
    bound, = left.plot(result.k, result.sigma_bound, ":", color=COLORS["loss"], lw=1,
                       label="(γ σ_max)^(T−k), the bound")
    left.set_yscale("log")
    left.set_ylim(FLOOR, 1e20)
    left.set_xlim(result.k[0], result.k[-1])
    left.yaxis.set_major_formatter(plain_log_labels)
    left.set(xlabel="time step k (the gradient starts at k = T)", ylabel="‖∂L/∂hₖ‖ (log scale)")
    left.legend(fontsize=8, loc="lower right")
    at_0 = left.annotate("", xy=(0, 1.0), xytext=(0.05, 0.9), textcoords="axes fraction", fontsize=9)
    index = np.arange(1, len(result.singular_values) + 1)
    sigma, = right.plot(index, result.singular_values, color=COLORS["loss"], label="singular values σᵢ")
    lam, = right.plot(index, index * 0.0, color=COLORS["x"], label="|λᵢ| (sorted)")
    right.axhline(1.0, color="black", lw=0.8, ls="--")
    right.set_ylim(0, 3.2)
    right.set_xlim(index[0] - 0.5, index[-1] + 0.5)
    right.set(xlabel="index i", ylabel="value", title="Spectrum of W")
    right.legend(fontsize=8, loc="upper right")
    k_shape, d = np.shape(result.k), len(result.singular_values)

    def update(r) -> bool:
        fields("result", r, "k", "norm", "rho_ref", "sigma_bound", "singular_values", "eigenvalues")
        if np.shape(r.k) != k_shape or len(r.singular_values) != d:
            return False
        norm.set_ydata(np.clip(r.norm, FLOOR, None))
        rho_ref.set_ydata(r.rho_ref)
        bound.set_ydata(r.sigma_bound)
        sigma.set_ydata(r.singular_values)
        lam.set_ydata(np.sort(np.abs(r.eigenvalues))[::-1])
        left.set_title(f"{r.family} W, ρ = {r.rho:.2f}, {r.activation}, T = {r.T}")
        at_0.set_text(f"at k = 0: {r.norm[0]:.1e}")
        at_0.xy = (0, max(r.norm[0], FLOOR))
        return True

    update(result)
    fig.set_updater(update, [norm, rho_ref, bound, sigma, lam, left.title, at_0])
    return fig


def power_bounds(r, rho: float, title: str):
    """||W^t|| between rho^t and sigma_max^t (left, log scale); Gelfand's ||W^t||^(1/t) -> rho (right).

    ``r``: a ``spectral.PowerNorms`` (fields t, norm, sigma_t, rho_t, gelfand).
    """
    fields("r", r, "t", "norm", "sigma_t", "rho_t", "gelfand")
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    upper, lower = r"$\sigma_{\max}^t$ (upper bound)", r"$\rho^t$ (lower bound)"
    curves(r.t, {r"$\Vert W^t\Vert_2$": r.norm, upper: r.sigma_t, lower: r.rho_t}, text("title", title),
           "power $t$", "matrix norm (log scale)", log="y", styles={upper: ":", lower: "--"}, ax=left)
    right.plot(r.t[1:], r.gelfand[1:], color=COLORS["h"], label=r"$\Vert W^t\Vert^{1/t}$")
    right.axhline(number("rho", rho, positive=True), color=COLORS["grey"], ls="--", label=r"$\rho(W)$")
    right.set(xlabel="power $t$", ylabel=r"$\Vert W^t\Vert^{1/t}$", title="Gelfand's formula")
    right.legend(fontsize=8)
    return fig
