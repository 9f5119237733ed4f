"""The speed targets ``greedy bench`` holds its figures against, in one place: each bench prints its
figure beside the target's limit and whether it is met (the README's speed table reports them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """A measured figure's limit: at most ``limit`` (``at_most``), or at least it."""

    number: int
    what: str
    limit: float
    at_most: bool
    unit: str = ""

    def met(self, value: float) -> bool:
        return value <= self.limit if self.at_most else value >= self.limit

    def verdict(self, value: float) -> str:
        """One line: the target, its limit, the measured figure, met or not."""
        bound = "<=" if self.at_most else ">="
        return (
            f"target {self.number} ({self.what}): {value:.3g}{self.unit}, "
            f"limit {bound} {self.limit:g}{self.unit}: {'met' if self.met(value) else 'NOT met'}"
        )


TINY_NETWORKS_SEEDS = 30  # target 1 is per fit with this many seeds trained at once
TINY_NETWORKS = Target(1, f"blobs, ms per 100-epoch fit at {TINY_NETWORKS_SEEDS} seeds", 2.0, at_most=True, unit=" ms")
MNIST_SIZED = Target(
    2, "MNIST-1D-sized fit as the study runs, % of this machine's float32 matmul, lowest width", 50.0, False, "%"
)
AGAINST_KERAS = Target(3, "fast engine per fit over Keras 3 on JAX, MNIST-1D-sized", 5.0, at_most=False, unit="x")
ESTIMATOR = Target(
    4, "GreedyPretrainedClassifier's cross-validation time over MLPClassifier's, slowest data set", 1.5, True, "x"
)
