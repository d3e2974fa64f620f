"""The beam-search explorer: beam_view against decoding.beam_search, the attention it shows against the
attention the decoder used while searching, the controls, the kernel-free sprite, and bad inputs."""
import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from recurrent import decoding, interactive, seq2seq
from recurrent import seq2seq_data as sd
from recurrent import seq2seq_explorer as sx
from recurrent.plots.beam import beam_view
from recurrent.plots.updatable import UpdatableFigure

SOURCES = ["4711", "90210", "8", "31337", "662", "5043"]
WIDTHS = (1, 2, 3, 5, 8)


@pytest.fixture(scope="module")
def trained():
    """A small attention model trained briefly on "reverse" (lengths 1-5): right on some sources."""
    p = seq2seq.init_seq2seq(sd.V, sd.V, 8, 16, attention=True, rng=1)
    sources, targets = sd.make_pairs("reverse", 1500, 1, 5, rng=1)
    seq2seq.train(p, sd.make_batches(sources, targets, 32, rng=1), 250, lr=0.02)
    return p


@pytest.fixture(scope="module")
def untrained():
    return seq2seq.init_seq2seq(sd.V, sd.V, 6, 8, attention=True, rng=3)


def searched(p, source, width, alpha=0.0, reverse_source=False, max_len=None):
    """decoding.beam_search on the model, called directly."""
    src = sd.encode(source)[::-1] if reverse_source else sd.encode(source)
    state0 = seq2seq.initial_state(p, src[:, None])
    max_len = len(source) + 3 if max_len is None else max_len
    return decoding.beam_search(seq2seq.make_step(p), state0, sd.BOS, sd.EOS, max_len, width, alpha)


def shown(tokens):
    """The hypothesis as the explorer lists it: its tokens without the final EOS."""
    last = "" if tokens[-1] == sd.EOS else sd.TOKENS[tokens[-1]]
    return "".join(sd.TOKENS[i] for i in tokens[:-1]) + last


@pytest.mark.parametrize("width, alpha, reverse_source", [(1, 0.0, False), (3, 0.0, False),
                                                          (5, 0.7, False), (8, 0.0, True)])
def test_beam_view_lists_the_best_hypotheses_of_beam_search(trained, width, alpha, reverse_source):
    for source in SOURCES:
        view = sx.beam_view(trained, source, width, alpha, reverse_source)
        hyps = searched(trained, source, width, alpha, reverse_source)
        assert view.found == len(hyps)
        assert view.hypotheses == [shown(h.tokens) for h in hyps[:width]]
        K = min(width, len(hyps))
        assert len(view.hypotheses) == K and view.log_probs.shape == view.scores.shape == (K,)
        np.testing.assert_allclose(view.log_probs, [h.log_prob for h in hyps[:K]], rtol=1e-12, atol=0)
        np.testing.assert_allclose(view.scores, [h.score for h in hyps[:K]], rtol=1e-12, atol=0)
        assert np.all(np.diff(view.scores) <= 0)
        assert view.finished.tolist() == [h.tokens[-1] == sd.EOS for h in hyps[:K]]
        assert view.correct.tolist() == [f and y == source[::-1] for f, y in
                                         zip(view.finished, view.hypotheses)]
        assert (view.source, view.target, view.width, view.alpha) == (source, source[::-1], width, alpha)
        read = source[::-1] if reverse_source else source
        assert view.source_tokens == list(read)
        best = hyps[0].tokens.tolist()
        assert view.output_tokens == [{sd.EOS: "EOS", sd.BOS: "BOS", sd.PAD: "PAD"}.get(i, sd.TOKENS[i])
                                      for i in best]
        if view.correct[0]:
            assert view.output_tokens == [*source[::-1], "EOS"]


def test_the_log_probs_are_those_of_the_outputs_read_by_teacher_forcing(trained):
    for source in SOURCES[:3]:
        hyps = searched(trained, source, 5)
        view = sx.beam_view(trained, source, 5)
        state0 = seq2seq.initial_state(trained, sd.encode(source)[:, None])
        step = seq2seq.make_step(trained)
        again = [decoding.sequence_log_prob(step, state0, sd.BOS, h.tokens) for h in hyps[:5]]
        np.testing.assert_allclose(view.log_probs, again, rtol=1e-10, atol=1e-12)


def test_width_one_is_greedy_and_the_trained_model_gets_some_right(trained):
    rights = 0
    for source in SOURCES:
        state0 = seq2seq.initial_state(trained, sd.encode(source)[:, None])
        g = decoding.greedy(seq2seq.make_step(trained), state0, sd.BOS, sd.EOS, len(source) + 3)
        view = sx.beam_view(trained, source, 1)
        assert view.hypotheses == [shown(g.tokens)] and view.found == 1
        rights += int(view.correct[0])
    assert rights >= 2                          # the marks can be True (measured: 5 of 6)
    wrong = sx.beam_view(trained, "4711", 1, task="copy")        # the same output, another answer
    assert wrong.target == "4711" and not wrong.correct.any()


def test_a_stray_special_token_is_shown_and_an_output_cut_at_max_len_is_not_right(untrained):
    p = untrained.copy()
    p.c[sd.BOS] = 60.0                                    # the decoder writes <bos> forever
    view = sx.beam_view(p, "12", 2, max_len=4)
    assert view.hypotheses[0] == "<bos>" * 4 and not view.finished[0] and not view.correct.any()
    assert view.output_tokens == ["BOS"] * 4 and view.weights.shape == (4, 2)


def teacher_forced_attention(p, source, tokens, reverse_source=False):
    src = sd.encode(source)[::-1] if reverse_source else sd.encode(source)
    tgt_in = np.concatenate([[sd.BOS], tokens[:-1]])[:, None]
    f = seq2seq.forward(p, src[:, None], np.ones((len(src), 1)), tgt_in)
    return np.array([a.weights[:, 0] for a in f.steps])


@pytest.mark.parametrize("reverse_source", [False, True])
def test_the_attention_is_what_the_decoder_used_while_searching(trained, untrained, reverse_source):
    for p in (trained, untrained):
        for source in SOURCES:
            view = sx.beam_view(p, source, 5, reverse_source=reverse_source)
            hyps, used = sx.search_attention(p, source, 5, reverse_source=reverse_source)
            assert len(used) == len(hyps) == view.found
            assert view.weights.shape == (len(hyps[0].tokens), len(source))
            np.testing.assert_allclose(view.weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)
            assert view.weights.min() >= 0
            np.testing.assert_allclose(view.weights, used[0], rtol=0, atol=1e-12)
            # every hypothesis, not only the best: the recorded weights follow the beam's reordering
            for h, w in zip(hyps, used):
                np.testing.assert_allclose(w, teacher_forced_attention(p, source, h.tokens, reverse_source),
                                           rtol=0, atol=1e-12)


def test_controls_offer_every_example_by_its_source_and_the_widths():
    example, width = sx.controls(SOURCES)
    assert example.name == "example" and example.values == tuple(range(len(SOURCES))) and example.default == 0
    assert [example.text(v) for v in example.values] == SOURCES
    assert width.name == "width" and width.values == WIDTHS and width.default == 3
    other = sx.controls(SOURCES[:2], widths=(1, 4), default_width=4)[1]
    assert other.values == (1, 4) and other.default == 4
    with pytest.raises(ValueError, match="^value: "):
        example.text(len(SOURCES))
    scrub_html = interactive.Scrubbable(lambda example, width: {"x": [example, width]},
                                        lambda r: plt.figure(figsize=(1, 1)), [example, width])._repr_html_()
    assert all(f"{s}" in scrub_html for s in SOURCES)         # the labels the HTML controls show


def test_compute_takes_the_controls_values(trained):
    compute = sx.make_compute(trained, SOURCES, alpha=0.5)
    view = compute(example=3, width=2)
    assert view.source == SOURCES[3] and view.width == 2 and view.alpha == 0.5
    same = sx.beam_view(trained, SOURCES[3], 2, 0.5)
    assert interactive.fingerprint(view) == interactive.fingerprint(same)
    reversed_view = sx.make_compute(trained, SOURCES, reverse_source=True)(example=3, width=2)
    assert reversed_view.source_tokens == list(SOURCES[3][::-1])


@pytest.fixture(scope="module")
def sprite(trained):
    controls = sx.controls(SOURCES)
    return interactive.sprite_explorer(sx.make_compute(trained, SOURCES), beam_view, controls, caption="c")


def test_the_sprite_has_a_frame_per_combination_and_stays_small(sprite):
    assert sprite.count == len(SOURCES) * len(WIDTHS)      # the width is in every result: none merged
    assert sprite.nbytes() < 400_000                       # measured about 120 kB
    sizes = {Image.open(io.BytesIO(f)).size for f in sprite.frames}
    assert sizes == {sprite.tile}


def test_no_dead_control_frames_differ_where_the_hypotheses_do(trained, sprite):
    compute, differing = sx.make_compute(trained, SOURCES), 0
    for e in range(len(SOURCES)):
        views = {w: compute(example=e, width=w) for w in WIDTHS}
        for a in WIDTHS:
            for b in WIDTHS:
                if a < b and views[a].hypotheses != views[b].hypotheses:
                    differing += 1
                    assert sprite.frame_for(example=e, width=a) != sprite.frame_for(example=e, width=b)
    assert differing >= len(SOURCES)                      # the check ran on many pairs
    for w in WIDTHS:                                       # and the example control changes the picture
        assert sprite.frame_for(example=0, width=w) != sprite.frame_for(example=1, width=w)


def test_the_chapter_explorer_on_the_stored_reference_model():
    """The notebook's calls: the stored model and its explorer sources, no dead control, a small page."""
    from recurrent import seq2seq_experiments

    run = seq2seq_experiments.reference_model()
    sources = seq2seq_experiments.explorer_sources()
    compute = sx.make_compute(run.params, sources, reverse_source=run.reverse_source)
    scrub = interactive.sprite_explorer(compute, beam_view, sx.controls(sources), caption="c")
    assert scrub.count == len(sources) * len(WIDTHS) and scrub.nbytes() < 500_000   # measured ~100 kB
    for e in range(len(sources)):
        views = {w: compute(example=e, width=w) for w in WIDTHS}
        for a, b in zip(WIDTHS, WIDTHS[1:]):
            if views[a].hypotheses != views[b].hypotheses:
                assert scrub.frame_for(example=e, width=a) != scrub.frame_for(example=e, width=b)


def test_the_figure_updates_in_place_for_another_width_and_keeps_its_size(trained):
    views = [sx.beam_view(trained, "90210", w) for w in WIDTHS]
    fig = beam_view(views[-1])
    try:
        assert isinstance(fig, UpdatableFigure)
        size, updated = fig.rgb().shape, 0
        for view in views:
            if view.output_tokens == views[-1].output_tokens:     # the same map: updated in place
                assert fig.refresh(view)
                fresh = beam_view(view)
                drawn = fig.rgb().astype(int)
                assert drawn.shape == size
                assert (np.abs(drawn - fresh.rgb().astype(int)).max(axis=-1) > 40).mean() < 1e-3
                assert f"width {view.width}" in fig.get_suptitle()
                plt.close(fresh)
                updated += 1
        assert updated >= 2
        other = sx.beam_view(trained, "8", 2)
        assert not fig.refresh(other)                      # other tick labels: the caller builds anew
        assert beam_view(other).rgb().shape == size
    finally:
        plt.close("all")


def test_the_figure_refuses_what_is_not_a_beam_view():
    with pytest.raises(TypeError, match="^result: "):
        beam_view({"source": "1"})
    with pytest.raises(TypeError, match="^result: "):
        beam_view(None)


@pytest.mark.parametrize("call, name", [
    (lambda p: sx.beam_view(p, "12", 0), "width"),
    (lambda p: sx.beam_view(p, "12", 2.0), "width"),
    (lambda p: sx.beam_view(p, "1a2", 2), "source"),
    (lambda p: sx.beam_view(p, "", 2), "source"),
    (lambda p: sx.beam_view(p, 12, 2), "source"),
    (lambda p: sx.beam_view(p, "12", 2, alpha=-1.0), "alpha"),
    (lambda p: sx.beam_view(p, "12", 2, max_len=0), "max_len"),
    (lambda p: sx.beam_view(p, "12", 2, task="sort"), "task"),
    (lambda p: sx.beam_view(p, "1+2", 2), "source"),                  # no answer for "reverse"
    (lambda p: sx.beam_view(seq2seq.init_seq2seq(sd.V, sd.V, 4, 4, attention=False), "12", 2), "p"),
    (lambda p: sx.beam_view("model", "12", 2), "p"),
    (lambda p: sx.make_compute(p, SOURCES)(example=len(SOURCES), width=2), "example"),
    (lambda p: sx.make_compute(p, SOURCES)(example=-1, width=2), "example"),
    (lambda p: sx.make_compute(p, SOURCES)(example=0, width=0), "width"),
    (lambda p: sx.make_compute(p, ["12", "3x"]), "sources"),
    (lambda p: sx.make_compute(p, "12"), "sources"),
    (lambda p: sx.make_compute(p, []), "sources"),
    (lambda p: sx.make_compute(p, ["1+2"]), "sources"),
    (lambda p: sx.controls(["12"]), "sources"),
    (lambda p: sx.controls(SOURCES, widths=(1, 0)), "widths"),
    (lambda p: sx.controls(SOURCES, widths=(2, 2)), "widths"),
    (lambda p: sx.controls(SOURCES, default_width=4), "default_width"),
])
def test_bad_inputs_are_refused_by_name(untrained, call, name):
    with pytest.raises((TypeError, ValueError), match=rf"^{name}: "):
        call(untrained)


def test_the_values_that_matter_raise_value_errors(untrained):
    for call in (lambda: sx.beam_view(untrained, "12", 0), lambda: sx.beam_view(untrained, "1a", 2),
                 lambda: sx.make_compute(untrained, SOURCES)(example=9, width=2)):
        with pytest.raises(ValueError):
            call()
