"""A dense network as plain NumPy arrays: an engine-independent forward pass and backprop.

Both engines export their trained networks as ``Layer`` lists, so accuracy checks and
diagnostics are computed the same way whichever engine trained the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.2  # Keras' LeakyReLU default negative slope


@dataclass(frozen=True)
class Layer:
    kernel: np.ndarray  # (fan_in, fan_out)
    bias: np.ndarray  # (fan_out,)
    activation: str  # relu | tanh | sigmoid | leaky_relu | softmax | linear


def activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return np.maximum(z, 0)
    if activation == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if activation == "tanh":
        return np.tanh(z)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if activation == "softmax":
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    if activation == "linear":
        return z
    raise ValueError(f"activation={activation!r} is not known")


def _activation_grad(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    if activation == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE)
    if activation == "tanh":
        return 1 - a**2
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "linear":
        return np.ones_like(z)
    raise ValueError(f"no elementwise gradient for activation={activation!r}")


def forward(layers: list[Layer], x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Pre-activations and activations of every layer (float64)."""
    a = np.asarray(x, np.float64)
    zs, acts = [], []
    for layer in layers:
        z = a @ layer.kernel.astype(np.float64) + layer.bias.astype(np.float64)
        a = activate(z, layer.activation)
        zs.append(z)
        acts.append(a)
    return zs, acts


def predict(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    return forward(layers, x)[1][-1]


def accuracy(layers: list[Layer], x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(layers, x).argmax(-1) == np.asarray(y)).mean())


def kernel_gradients(layers: list[Layer], x: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """d(mean loss)/d(kernel) for every layer: softmax head -> cross-entropy, linear head -> MSE.

    ``target`` is integer labels for a softmax head, the reconstruction target otherwise.
    """
    zs, acts = forward(layers, x)
    n = len(x)
    head = layers[-1].activation
    if head == "softmax":
        delta = acts[-1] - np.eye(acts[-1].shape[1])[np.asarray(target)]
        delta /= n
    elif head == "linear":
        # Keras' MSE averages over outputs and then over the batch.
        delta = 2 * (acts[-1] - target) / (n * acts[-1].shape[1])
    else:
        raise ValueError(f"the last layer must be softmax or linear, got {head!r}")
    grads: list[np.ndarray] = [np.empty(0)] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        inputs = acts[i - 1] if i > 0 else np.asarray(x, np.float64)
        grads[i] = inputs.T @ delta
        if i > 0:
            delta = (delta @ layers[i].kernel.T.astype(np.float64)) * _activation_grad(
                zs[i - 1], acts[i - 1], layers[i - 1].activation
            )
    return grads
