"""The house style and every figure of the book: a few general primitives, then each chapter's figures.

Each builder takes arrays or the typed results of a chapter module (computed elsewhere), draws one
figure in the house style and returns the ``matplotlib.figure.Figure``. Notebooks call
``fig = plots.<builder>(...)``; nothing here computes a result the text relies on.

    style        use_style, COLORS, CYCLE and the checks every builder shares
    primitives   curves (linear, log-y, log-log), seeds (points, lines or bands over seeds), panels
    updatable    UpdatableFigure: explorers' figures that take a new result in place
    diagrams     ch. 1, 6, 7: rnn_cell, lstm_cell, gru_cell, architectures (drawn from code)
    rnn          ch. 1-2: unrolled, heatmap, error_bars, minibatch_noise, char_model_seeds
    spectral     ch. 3: gradient_flow (explorer), power_bounds
    fixed_points ch. 4: cobweb (explorer), bifurcation, phase_portrait
    remedies     ch. 5: cliff, cliff_seeds
    gates        ch. 6-7: memory_flow (explorer), gate_trace, activations
    training     ch. 8: along_training (measurements at checkpoints, over seeds)
    beam         ch. 9: beam_view (explorer: beam hypotheses + attention)
    seq2seq      ch. 9: accuracy_by_length, exposure_bias, attention_maps, beam_widths, conditions,
                 loss_curves
"""
from .beam import beam_view
from .diagrams import architectures, gru_cell, lstm_cell, rnn_cell
from .fixed_points import bifurcation, cobweb, phase_portrait
from .gates import activations, gate_trace, memory_flow
from .primitives import curves, finish, panels, seeds
from .remedies import cliff, cliff_seeds
from .rnn import char_model_seeds, error_bars, heatmap, minibatch_noise, unrolled
from .seq2seq import accuracy_by_length, attention_maps, beam_widths, conditions, exposure_bias, loss_curves
from .spectral import gradient_flow, power_bounds
from .style import COLORS, CYCLE, use_style
from .training import along_training
from .updatable import UpdatableFigure

__all__ = ["architectures", "gru_cell", "lstm_cell", "rnn_cell",  # diagrams (H1)
           "COLORS", "CYCLE", "UpdatableFigure", "activations", "bifurcation", "char_model_seeds", "cliff",
           "cliff_seeds", "cobweb", "curves", "error_bars", "finish", "gate_trace", "gradient_flow",
           "heatmap", "memory_flow", "minibatch_noise", "panels", "phase_portrait", "power_bounds", "seeds",
           "unrolled", "use_style",
           "along_training",  # training (H6)
           "accuracy_by_length", "attention_maps", "beam_widths", "conditions", "exposure_bias",
           "loss_curves",  # seq2seq (issue 11, B)
           "beam_view"]  # beam (issue 11, C)
