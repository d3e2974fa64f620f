"""Recurrent: the helper package of the book *Recurrent*, one small module per chapter.

    rnn            ch. 1: forward equations, the RNN's parameters, one-hot, counts, PyTorch names
    cell           what every cell shares: ParamSet (containers), Forward, Backward
    losses         ch. 1, 2, 8: softmax, cross-entropy, the last-step squared error, dL/do_t
    architectures  ch. 1: one-to-one ... encoder-decoder and bidirectional wirings
    bptt           ch. 2: backpropagation through time; the one API of every cell (forward, backward,
                   loss_and_grads, loss_function, gradient_check, gradient_norms)
    training       ch. 2: clipping, SGD and Adam, truncated BPTT, evaluation, gradient noise
    echo           ch. 2: the delayed-echo experiment, truncation windows over seeds
    spectral       ch. 3: Jacobian products, gradient norms through time, SVD and eigenvalues
    fixed_points   ch. 4: iterated maps, fixed points, t-fold derivatives, bifurcations
    fixed_points_2d ch. 4: the two-unit map, its fixed points, orbits and attracting closed curve
    remedies       ch. 5: clipping and the cliff model
    vanishing      ch. 5: input reversal, IRNN/orthogonal initialisation, the forget-gate bias
    lstm           ch. 6: the LSTM cell, forward and backward
    memory         ch. 6: gradient through the LSTM's cell state, the hand-set LSTM, the 1997 cell
    jacobians      ch. 6-7: the full one-step Jacobians of the LSTM and the GRU, path by path
    gru            ch. 7: three GRU variants, forward and backward
    gru_conventions ch. 7: the GRU as each text writes it, and exact translations between them
    long_range     ch. 8: the adding problem, training the four cells, experiments over seeds
    along_training ch. 8: step Jacobians and gradient ratios measured at checkpoints during training
    stacked        ch. 8: several seeds' models stacked, their forward pass
    stacked_grads  ch. 8: the stacked models' backward pass
    seq2seq_data   ch. 9: digit tasks, padded batches with masks, bucketing
    decoding       ch. 9: greedy, beam and exhaustive search, sampling with temperature, any step function
    encoder        ch. 9: embedding, masked GRU layer over padded batches, stacked and bidirectional
    attention      ch. 9: additive attention (Bahdanau et al. 2015), masked softmax, forward and backward
    seq2seq        ch. 9: the encoder-decoder with teacher forcing, optional attention, masked cross-entropy
    seq2seq_experiments ch. 9: five variants trained over seeds, their measurements, the reference model
    seq2seq_checks ch. 9: gradient and padding checks, beam against exhaustive search, the stored model
    seq2seq_explorer ch. 9: the beam-search explorer: hypotheses, scores and the best one's attention
    seq2seq_torch  ch. 9: the PyTorch fixture's modules as the book's parameters, and their agreement
    tasks          toy data: the shipped text, vocabularies, batches, the delayed-echo task
    data           the data notebooks read: PyTorch fixtures, benchmark results
    plots          the house style: primitives (curves, seeds, panels) and one module of figures per chapter
    interactive    explorers: figure_at_defaults, widget_explorer (ipywidgets), sprite_explorer (kernel-free),
                   with controls (Control, fingerprint) and scrubbable (the sprite) beside it
"""
__version__ = "0.1.0"
