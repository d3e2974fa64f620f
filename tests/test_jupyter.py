"""The notebooks, unchanged, in the Jupyter front ends readers use: JupyterLab 4 and Notebook 7.

nbval checks what the kernel computes; these tests check what a reader of the front end sees. A
JupyterLab server (and a Notebook 7 server) from requirements.txt serves a copy of book/, headless
Chromium opens each notebook, and the tests check:

- the markdown renders as MyST (jupyterlab-myst): exercises, equations, roles, no raw directives;
- before anything runs (the notebook is not trusted yet, so JupyterLab strips its scripts), the
  kernel-free explorers show disabled controls and a note, never a control that moves for nothing;
- in the notebooks with explorers, Run All executes every code cell in order without an error output,
  and afterwards every ipywidgets slider and menu of the live explorers redraws the figure
  (ipywidgets 8 front end from jupyterlab_widgets), and the kernel-free explorers respond too.

JupyterLab opens every notebook and runs those with explorers; Notebook 7 opens and runs the
explorer whose controls include both sliders and menus (only widget rendering differs there). The
other notebooks are not run again here: nbval has run their code in the same kind of
kernel, and nothing in their outputs behaves differently in a front end. Screenshots go to
artifacts/screenshots/jupyter-*.png. Without Chromium they skip, except under CI (see conftest.py).
"""
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import SHOTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
EXPLORERS = [n for n in NOTEBOOKS
             if "interactive.widget_explorer(" in (ROOT / "book" / f"{n}.ipynb").read_text()]
RUN_TIMEOUT_MS = 300_000

SETTINGS = {   # user settings for the test servers only (JUPYTERLAB_SETTINGS_DIR is a temporary folder)
    # render every cell, not only those in view, so the tests see the whole notebook
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def test_the_book_has_live_explorers():
    assert len(EXPLORERS) >= 3, EXPLORERS


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A copy of book/ (the servers may save into it); notebooks read their data through recurrent.data."""
    home = tmp_path_factory.mktemp("jupyter")
    (home / "book").mkdir()
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "book" / f"{name}.ipynb", home / "book")
    for name, value in SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    return home


@contextlib.contextmanager
def serve(home: Path, app: str):
    """Run `jupyter <app>` (lab or notebook) on a free local port; yields its address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
                        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
                        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
                        "JUPYTER_DATA_DIR": str(home / "data")}    # no notebook signatures: untrusted
    log = open(home / f"{app}.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter"), app, "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
         "--ServerApp.disable_check_xsrf=True",
         "--expose-app-in-browser", f"--ServerApp.root_dir={home}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=2)
            break
        except OSError as error:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                log_text = (home / f"{app}.log").read_text()[-3000:]
                raise RuntimeError(f"jupyter {app} did not start:\n{log_text}") from error
            time.sleep(0.3)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(scope="module")
def lab(home):
    with serve(home, "lab") as base:
        yield base


@pytest.fixture(scope="module")
def notebook(home):
    with serve(home, "notebook") as base:
        yield base


CURRENT = "jupyterapp.shell.currentWidget"
KERNEL_IDLE = (f"() => window.jupyterapp && {CURRENT} && {CURRENT}.sessionContext"
               f" && {CURRENT}.sessionContext.session && {CURRENT}.sessionContext.session.kernel"
               f" && {CURRENT}.sessionContext.session.kernel.status === 'idle'")
CODE_CELLS = f"{CURRENT}.content.widgets.filter(c => c.model.type === 'code')"


def open_notebook(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error) + " @ " + (error.stack or "")[:600]))
    page.goto(url)
    page.wait_for_function(KERNEL_IDLE, timeout=120_000, polling=250)
    panel = page.locator("#" + page.evaluate(f"() => {CURRENT}.id"))     # this notebook, not another tab
    return page, panel, errors


def run_all(page):
    """Clear the stored outputs, Run All, and wait until every code cell has run and the kernel rests."""
    page.evaluate("async () => { await jupyterapp.commands.execute('notebook:clear-all-cell-outputs');"
                  " await jupyterapp.commands.execute('notebook:run-all-cells'); }")
    all_ran = f"{CODE_CELLS}.every(c => c.model.executionCount !== null)"
    page.wait_for_function(f"() => ({KERNEL_IDLE})() && {all_ran}", timeout=RUN_TIMEOUT_MS, polling=500)
    return page.evaluate(f"""() => {{
        const cells = {CODE_CELLS};
        return {{counts: cells.map(c => c.model.executionCount),
                 errors: cells.flatMap(c => c.model.outputs.toJSON())
                              .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)}};
    }}""")


def changed(page, container, before, timeout=30_000):
    """Wait until the figure in `container` shows another picture (the Output widget replaces the img)."""
    page.wait_for_function("([box, before]) => { const img = box.querySelector('img');"
                           " return img !== null && img.getAttribute('src') !== before; }",
                           arg=[container.element_handle(), before], timeout=timeout)


def drag_one_step(page, handle):
    """Drag an ipywidgets slider's handle one position (towards the middle), as a reader's mouse would.

    (Arrow keys move it in JupyterLab but not in Notebook 7, whose shortcuts take them.)
    """
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = handle.locator("xpath=ancestor::div[contains(@class, 'noUi-target')]").bounding_box()
    top, now = float(handle.get_attribute("aria-valuemax")), float(handle.get_attribute("aria-valuenow"))
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + track["width"] / top * (-1 if now == top else 1), y, steps=5)
    page.mouse.up()


def check_fresh_explorers(page, panel):
    """Before the cells run: kernel-free controls disabled with a note; the live cell says to run it."""
    scrubs = panel.locator(".rnn-scrub")
    expect(scrubs.first).to_be_attached()
    assert scrubs.count() > 0, "no kernel-free explorer in the stored outputs"
    for i in range(scrubs.count()):
        scrub = scrubs.nth(i)
        controls = scrub.locator("input, select")
        assert controls.count() > 0
        assert scrub.locator(":enabled").count() == 0, "a control that moves but cannot change the figure"
        scrub.scroll_into_view_if_needed()
        expect(scrub.locator(".rnn-scrub-note")).to_be_visible()
    assert panel.get_by_text("run this cell to show them]").count() > 0


def check_explorers_respond(page, panel):
    views = panel.locator(".widget-vbox").filter(has=page.locator(".widget-output img"))
    assert views.count() > 0, "no live explorer rendered: is the ipywidgets front end installed?"
    assert panel.get_by_text("Error displaying widget").count() == 0
    for i in range(views.count()):
        view = views.nth(i)
        figure = view.locator(".widget-output img").first
        for handle in view.locator(".widget-slider .noUi-handle").all():
            before = figure.get_attribute("src")
            drag_one_step(page, handle)
            changed(page, view.locator(".widget-output").first, before)
        for menu in view.locator("select").all():
            before = figure.get_attribute("src")
            values = [o.get_attribute("value") for o in menu.locator("option").all()]
            menu.select_option(next(v for v in values if v != menu.input_value()))
            changed(page, view.locator('.widget-output').first, before)
    for scrub in panel.locator(".rnn-scrub").all():
        assert scrub.locator(":disabled").count() == 0 and scrub.locator(".rnn-scrub-note").count() == 0
        figure = scrub.locator(".rnn-scrub-view img")
        assert figure.is_visible(), "the kernel-free explorer shows no frame"
        for slider in scrub.locator('input[type="range"]').all():
            before = figure.get_attribute("data-frame")
            slider.scroll_into_view_if_needed()
            box = slider.bounding_box()
            at_start = slider.input_value() == slider.get_attribute("min")
            page.mouse.click(box["x"] + (box["width"] - 3 if at_start else 3), box["y"] + box["height"] / 2)
            frame_changed(page, figure, before)
        for menu in scrub.locator("select").all():
            before = figure.get_attribute("data-frame")
            values = [o.get_attribute("value") for o in menu.locator("option").all()]
            menu.select_option(next(v for v in values if v != menu.input_value()))
            frame_changed(page, figure, before)


def frame_changed(page, figure, before, timeout=5_000):
    """Wait until the kernel-free explorer shows another tile of its sprite."""
    page.wait_for_function("([img, before]) => img.dataset.frame !== before",
                           arg=[figure.element_handle(), before], timeout=timeout)


def check_myst_rendered(page, panel, name):
    """jupyterlab-myst (pinned in requirements.txt) renders the book's MyST: no raw directives or roles."""
    source = (ROOT / "book" / f"{name}.ipynb").read_text()
    # sphinx-exercise's directives; jupyterlab-myst draws each as a box (the gated solution-start and
    # solution-end as two, around the code cells between them)
    directives = ("exercise", "solution", "solution-start", "solution-end")
    boxes = sum(source.count(f"```{{{d}}}") for d in directives)
    expect(panel.locator(".myst-exercise")).to_have_count(boxes, timeout=60_000)    # renders async
    # a page without exercises (the errata) passes the count at once: wait for its text as well
    expect(panel.locator(".jp-MarkdownCell").first).to_have_text(re.compile(r"\S"), timeout=60_000)
    text = page.evaluate("(panel) => [...panel.querySelectorAll('.jp-MarkdownCell')]"
                         ".map(c => c.innerText).join('\\n')", panel.element_handle())
    assert text.strip(), "no markdown rendered"
    raw = [m for m in (":label:", ":class:", "```{", "{term}`", "{cite}`", "{eq}`", "{numref}`") if m in text]
    assert raw == [], f"MyST shown as raw text: {raw}"


def check_notebook(browser, url, name, shot):
    page, panel, errors = open_notebook(browser, url)
    try:
        check_myst_rendered(page, panel, name)
        if name in EXPLORERS:
            check_fresh_explorers(page, panel)
        if name in EXPLORERS:
            # Only the explorers behave differently in a front end (widgets, scripts): nbval has run
            # every notebook's code in a kernel already, so the others are opened but not run again.
            result = run_all(page)
            assert result["errors"] == [], f"{name}: cells raised {result['errors']}"
            assert result["counts"] == list(range(1, len(result["counts"]) + 1)), "not run top to bottom"
            check_explorers_respond(page, panel)
        assert errors == [], f"JavaScript errors: {errors}"
    finally:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / shot))
        page.close()
        shut_down_kernels(url.split("/lab/")[0].split("/notebooks/")[0])


def shut_down_kernels(base: str) -> None:
    """Closing a tab leaves its kernel running; stop them so that one notebook's kernel is up at a time."""
    with urllib.request.urlopen(f"{base}/api/sessions", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_4(browser, lab, name):
    url = f"{lab}/lab/workspaces/{name}/tree/book/{name}.ipynb"     # a fresh workspace: no other tabs
    check_notebook(browser, url, name, f"jupyter-lab-{name}.png")


# Notebook 7 differs from JupyterLab only in how it renders widgets, and the explorers share one
# LiveView class: the explorer with both kinds of control (sliders and menus) checks it for all.
NOTEBOOK_7 = [n for n in EXPLORERS if n == "svd_view"] or EXPLORERS[:1]


@pytest.mark.parametrize("name", NOTEBOOK_7)
def test_explorer_notebook_runs_in_notebook_7(browser, notebook, name):
    check_notebook(browser, f"{notebook}/notebooks/book/{name}.ipynb", name, f"jupyter-notebook7-{name}.png")


def test_the_front_ends_are_the_pinned_major_versions():
    from importlib.metadata import version

    assert version("jupyterlab").startswith("4.") and version("notebook").startswith("7.")
    assert version("ipywidgets").startswith("8.") and version("jupyterlab_widgets").startswith("3.")
    assert version("jupyterlab_myst").startswith("2.")


def test_every_front_end_extension_is_compatible_with_this_jupyterlab():
    # An extension built against other shared packages is listed with an X; it may half-work.
    # (jupyterlab-myst 2.7 is built for @jupyter/ydoc 3, which JupyterLab 4.5 and later replaced.)
    listing = subprocess.run([str(Path(sys.executable).parent / "jupyter"), "labextension", "list"],
                             capture_output=True, text=True, timeout=120)
    text = listing.stdout + listing.stderr
    for name in ("jupyterlab-myst", "jupyterlab-manager", "@jupyter-notebook/lab-extension"):
        assert name in text, f"{name} is not installed"
    assert "not compatible" not in text, text
