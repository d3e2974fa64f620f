"""Explorers: controls, the live ipywidgets view and the kernel-free scrubbable figure.

The widget tests need no browser: they set the controls programmatically and check that the
figure's data changed as the computation says it should.
"""
import base64
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image
from traitlets import TraitError

from recurrent import interactive, plots, spectral


@pytest.fixture(autouse=True)
def style():
    plots.use_style()
    yield
    plt.close("all")


def toy_compute(a, kind):
    x = np.linspace(0, 1, 5)
    return {"x": x, "y": a * x if kind == "line" else a * x**2}


def toy_draw(result):
    fig, ax = plt.subplots()
    ax.plot(result["x"], result["y"])
    ax.set(title="toy", xlabel="x", ylabel="y")
    return fig


TOY = (interactive.Control("a", (1.0, 2.0, 3.0), 2.0, "a"),
       interactive.Control("kind", ("line", "square"), "line", "kind"))


def test_control_validation():
    with pytest.raises(ValueError, match="at least 2 values"):
        interactive.Control("a", (1.0,), 1.0, "a")
    with pytest.raises(ValueError, match="expected the default among"):
        interactive.Control("a", (1.0, 2.0), 3.0, "a")
    assert TOY[0].numeric and not TOY[1].numeric


def test_live_view_redraws_when_a_control_moves():
    view = interactive.widget_explorer(toy_compute, toy_draw, TOY)
    np.testing.assert_allclose(view.figure.axes[0].lines[0].get_ydata(), 2.0 * np.linspace(0, 1, 5))
    view.controls["a"].value = 3.0
    np.testing.assert_allclose(view.figure.axes[0].lines[0].get_ydata(), 3.0 * np.linspace(0, 1, 5))
    view.controls["kind"].value = "square"
    np.testing.assert_allclose(view.figure.axes[0].lines[0].get_ydata(), 3.0 * np.linspace(0, 1, 5) ** 2)


def test_live_view_displays_the_widget_with_a_text_that_says_how_to_get_it(monkeypatch):
    view = interactive.widget_explorer(toy_compute, toy_draw, TOY)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    view._ipython_display_()
    (bundle, raw), = shown
    assert raw and bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.widget.model_id
    assert bundle["text/plain"] == "[live explorer with controls: a, kind; run this cell to show them]"


def test_live_sliders_only_offer_the_listed_values():
    view = interactive.widget_explorer(toy_compute, toy_draw, TOY)
    slider = view.controls["a"]
    assert list(slider.options) == [("1.0", 1.0), ("2.0", 2.0), ("3.0", 3.0)]
    with pytest.raises(TraitError, match="Invalid selection"):   # a value outside the options
        slider.value = 7.0
    assert slider.value == 2.0


def test_scrubbable_has_a_frame_per_distinct_result_and_switches_frames():
    scrub = interactive.sprite_explorer(toy_compute, toy_draw, TOY)
    assert len(scrub.keys) == 6 and len(scrub.frames) == 6
    assert scrub.frame_for(a=1.0) != scrub.frame_for(a=3.0)
    assert scrub.frame_for(a=1.0, kind="square") != scrub.frame_for(a=1.0, kind="line")
    page = scrub._repr_html_()
    assert page.count('type="range"') == 1 and page.count("<option") == 2
    assert scrub.uid in page and page.startswith('<div class="rnn-scrub"')
    assert scrub.uid == interactive.sprite_explorer(toy_compute, toy_draw, TOY).uid     # deterministic


def test_scrubbable_html_holds_no_pixels_only_controls_layout_and_a_fingerprint_of_the_results():
    """nbval compares the HTML: it must not change with how a CPU rasterises the frames."""
    scrub = interactive.sprite_explorer(toy_compute, toy_draw, TOY)
    page = scrub._repr_html_()
    assert "base64" not in page and "data:image" not in page and len(page) < 6000
    assert f'data-fingerprint="{scrub.fingerprint}"' in page
    rows = -(-len(scrub.frames) // scrub.columns)
    assert scrub.columns >= 1 and scrub.columns * rows >= len(scrub.frames)


def test_scrubbable_fingerprint_ignores_the_last_bits_and_sees_real_changes():
    def smooth(a, kind):               # values that are not exact decimal ties, unlike toy_compute's
        x = np.linspace(0.1, 1, 5)
        return {"x": x, "y": np.sin(a * x) if kind == "line" else np.cos(a * x)}

    def nudged(a, kind):
        r = smooth(a, kind)
        return r | {"y": r["y"] * (1 + 2**-50)}

    def changed(a, kind):
        r = smooth(a, kind)
        return r | {"y": r["y"] * 1.01}

    base = interactive.sprite_explorer(smooth, toy_draw, TOY)
    assert interactive.sprite_explorer(nudged, toy_draw, TOY).fingerprint == base.fingerprint
    assert interactive.sprite_explorer(changed, toy_draw, TOY).fingerprint != base.fingerprint
    assert interactive.fingerprint({"x": np.array([1.0, np.inf]), "s": "a", "n": [1, 2]}) == \
        interactive.fingerprint({"s": "a", "n": [1, 2], "x": np.array([1.0 + 1e-14, np.inf])})
    with pytest.raises(TypeError, match="result: expected numbers"):
        interactive.fingerprint({"f": object()})


def test_scrubbable_displays_the_sprite_then_the_controls(monkeypatch):
    scrub = interactive.sprite_explorer(toy_compute, toy_draw, TOY)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    scrub._ipython_display_()
    (sprite, controls) = shown
    assert set(sprite) == {"image/png", "text/plain"} and "6 frames" in sprite["text/plain"]
    assert controls["text/html"] == scrub._repr_html_() and controls["text/plain"] == repr(scrub)
    image = Image.open(io.BytesIO(base64.b64decode(sprite["image/png"])))
    w, h = scrub.tile
    assert image.size == (scrub.columns * w, -(-6 // scrub.columns) * h)


def test_scrubbable_controls_are_disabled_until_its_script_runs():
    # Where scripts are stripped (an untrusted notebook in JupyterLab), a control that moved without
    # changing the figure would be dead; disabled controls and a note say what to do instead.
    page = interactive.sprite_explorer(toy_compute, toy_draw, TOY)._repr_html_()
    assert page.count(" disabled>") == len(TOY) == 2
    assert 'class="rnn-scrub-note"' in page
    assert "el.disabled = false" in page and "note.remove()" in page


def test_scrubbable_stores_identical_results_once():
    def ignores_kind(a, kind):
        return toy_compute(a, "line")

    scrub = interactive.sprite_explorer(ignores_kind, toy_draw, TOY)
    assert len(scrub.keys) == 6 and len(scrub.frames) == 3


def test_figure_at_defaults_uses_the_defaults_and_checks_names():
    fig = interactive.figure_at_defaults(toy_compute, toy_draw, TOY)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), 2.0 * np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="expected control names among"):
        interactive.figure_at_defaults(toy_compute, toy_draw, TOY, b=1)


def test_spectral_explorer_widget_follows_the_spectral_radius():
    view = interactive.widget_explorer(spectral.gradient_norms_at_init, plots.gradient_flow,
                                       spectral.CONTROLS)
    first = view.figure.axes[0].lines[0].get_ydata().copy()
    np.testing.assert_allclose(first, spectral.gradient_norms_at_init(rho=0.9).norm)
    view.controls["rho"].value = 1.3
    after = view.figure.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(after, np.clip(spectral.gradient_norms_at_init(rho=1.3).norm, 1e-45, None))
    assert after[0] > first[0] * 1e3                # a larger radius: far less vanishing at k = 0
    view.controls["activation"].value = "linear"
    np.testing.assert_allclose(view.figure.axes[0].lines[0].get_ydata(),
                               np.clip(spectral.gradient_norms_at_init(rho=1.3, activation="linear").norm,
                                       1e-45, None))
    assert "ρ = 1.30" in view.figure.axes[0].get_title()


def test_cobweb_explorer_widget_follows_weight_and_start():
    from recurrent import fixed_points as fp

    view = interactive.widget_explorer(fp.tanh_unit_trace, plots.cobweb, fp.CONTROLS)
    curve = view.figure.axes[0].lines[1]                           # the graph of f
    np.testing.assert_allclose(curve.get_ydata(), np.tanh(1.5 * curve.get_xdata()))
    view.controls["w"].value = -1.0
    curve = view.figure.axes[0].lines[1]
    np.testing.assert_allclose(curve.get_ydata(), np.tanh(-1.0 * curve.get_xdata()))
    derivative = view.figure.axes[1].lines[0].get_ydata()
    expected = np.clip(fp.tanh_unit_trace(w=-1.0, x0=0.05).derivative, 1e-30, 1e30)
    np.testing.assert_allclose(derivative, expected)
    view.controls["x0"].value = 0.6
    assert view.figure.axes[1].get_title().endswith("+0.60")


def test_forget_gate_explorer_widget_follows_the_bias():
    from recurrent import memory

    view = interactive.widget_explorer(memory.gradient_ratios, plots.memory_flow, memory.CONTROLS)
    cell = view.figure.axes[0].lines[0].get_ydata()
    view.controls["forget_bias"].value = 4.0
    after = view.figure.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(after, np.clip(memory.gradient_ratios(forget_bias=4.0).lstm_c, 1e-40, None))
    assert after[0] > 100 * cell[0]                      # more gradient survives to the first step
    view.controls["T"].value = 100
    assert len(view.figure.axes[0].lines[0].get_ydata()) == 100


def test_fingerprint_of_a_typed_result_is_that_of_the_dict_of_its_fields():
    from dataclasses import asdict
    from typing import NamedTuple

    class Pair(NamedTuple):
        x: np.ndarray
        label: str

    r = spectral.gradient_norms_at_init(rho=1.1)
    fields = {name: getattr(r, name) for name in vars(r)}
    assert interactive.fingerprint(r) == interactive.fingerprint(fields)
    assert interactive.fingerprint(Pair(np.arange(3.0), "a")) == interactive.fingerprint({"x": np.arange(3.0),
                                                                                          "label": "a"})
    assert interactive.fingerprint(r) != interactive.fingerprint(spectral.gradient_norms_at_init(rho=1.2))
    from recurrent import fixed_points as fp
    trace = fp.tanh_unit_trace()
    as_dict = {name: getattr(trace, name) for name in vars(trace)}
    as_dict["fixed"] = [asdict(p) for p in trace.fixed]
    assert interactive.fingerprint(trace) == interactive.fingerprint(as_dict)
    with pytest.raises(ValueError, match="digits: expected an int from 1 to 17"):
        interactive.fingerprint(r, digits=0)


def test_widget_explorer_updates_its_figure_in_place_and_shows_a_png(monkeypatch):
    view = interactive.widget_explorer(spectral.gradient_norms_at_init, plots.gradient_flow,
                                       spectral.CONTROLS)
    figure = view.figure
    view.controls["family"].value = "symmetric"
    assert view.figure is figure                               # updated, not rebuilt
    np.testing.assert_allclose(figure.axes[0].lines[0].get_ydata(),
                               np.clip(spectral.gradient_norms_at_init(family="symmetric").norm, 1e-45, None))
    (shown,) = view.output.outputs
    png = base64.b64decode(shown["data"]["image/png"])
    assert Image.open(io.BytesIO(png)).size == (840, 340)


def test_widget_explorer_rebuilds_a_figure_that_cannot_be_updated():
    view = interactive.widget_explorer(toy_compute, toy_draw, TOY)
    figure = view.figure
    view.controls["a"].value = 1.0
    assert view.figure is not figure and len(view.output.outputs) == 1


@pytest.mark.parametrize("make", [interactive.widget_explorer, interactive.sprite_explorer,
                                  interactive.figure_at_defaults])
def test_explorers_refuse_what_is_not_a_compute_a_draw_and_controls(make):
    with pytest.raises(TypeError, match="compute: expected a function"):
        make(None, toy_draw, TOY)
    with pytest.raises(TypeError, match="draw: expected a function"):
        make(toy_compute, "plot", TOY)
    with pytest.raises(TypeError, match="controls: expected a non-empty sequence of Control"):
        make(toy_compute, toy_draw, [{"name": "a"}])


def test_sprite_explorer_checks_its_options():
    with pytest.raises(ValueError, match="dpi: expected an int from 10 to 600"):
        interactive.sprite_explorer(toy_compute, toy_draw, TOY, dpi=0)
    with pytest.raises(TypeError, match="progress: expected a function"):
        interactive.sprite_explorer(toy_compute, toy_draw, TOY, progress="yes")
    scrub = interactive.sprite_explorer(toy_compute, toy_draw, TOY)
    with pytest.raises(ValueError, match="a: expected one of"):
        scrub.frame_for(a=7.0)
    with pytest.raises(ValueError, match="expected control names among"):
        scrub.frame_for(b=1.0)


def test_a_control_labels_only_its_own_values():
    from recurrent.controls import Control
    c = Control("rho", (0.5, 0.9), 0.9, "spectral radius ρ", fmt="{:.1f}")
    assert c.text(0.9) == "0.9" and c.text(np.float64(0.5)) == "0.5"
    for bad in (None, 0.7, "0.9", {"rho": 0.9}, True):
        with pytest.raises(ValueError, match=r"^value: expected one of \[0.5, 0.9\]"):
            c.text(bad)
