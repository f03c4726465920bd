//! The MNIST digits and the one-hidden-layer perceptron the talk tunes.
