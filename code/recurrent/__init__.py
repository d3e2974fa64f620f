"""Recurrent: the helper package of the book *Recurrent*, one small module per chapter.

    rnn            chapter 1: forward equations, softmax and cross-entropy, one-hot, parameter counts
    architectures  chapter 1: one-to-one ... encoder-decoder and bidirectional wirings
    bptt           chapter 2: backpropagation through time, gradient checks, training loops
    tasks          toy data: the shipped text, vocabularies, batches, the delayed-echo task
    plots          the house style and every figure builder
"""
__version__ = "0.1.0"
