"""Recurrent: the helper package of the book *Recurrent*, one small module per chapter.

    rnn            ch. 1: forward equations, softmax and cross-entropy, one-hot, parameter counts
    architectures  ch. 1: one-to-one ... encoder-decoder and bidirectional wirings
    bptt           ch. 2: backpropagation through time, gradient checks, training loops
    spectral       ch. 3: Jacobian products, gradient norms through time, SVD and eigenvalues
    fixed_points   ch. 4: iterated maps, fixed points, t-fold derivatives, bifurcations
    remedies       ch. 5: clipping and the cliff model, input reversal, identity initialisation
    gates          ch. 6-7: LSTM and GRU cells, forward and backward
    memory         ch. 6: gradient through the LSTM's cell state, the hand-set LSTM
    tasks          toy data: the shipped text, vocabularies, batches, the delayed-echo task
    plots          the house style and every figure builder
    interactive    explorers: live ipywidgets views and kernel-free scrubbable figures
"""
__version__ = "0.1.0"
