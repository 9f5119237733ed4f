"""The fast engine: the procedures in pure JAX, every fit one jitted ``lax.scan``, seeds vmapped.

- ``network``: pure functions that initialize, forward and score a batch of networks (no state, no I/O);
- ``fit``: pure functions that train them; ``keys``: every random key by what it is for;
- ``scores``: accuracy, reconstruction error and divergence of a batch;
- ``seeds``: which seeds train together (fixed-size chunks) and what each stage recorded;
- ``rbm``: restricted Boltzmann machines trained by contrastive divergence;
- ``programs``: the compiled programs, in one cache the engine bounds itself (``release_compiled`` frees it);
- ``runs``: what every procedure shares (checked inputs, seed chunks, a greedy stage's record and fine-tuning);
- ``supervised``, ``unsupervised`` (autoencoder and RBM stacks) and ``baseline`` (end to end): the procedures,
  each returning a ``Trained`` value (records and, if asked, networks);
- ``reuse``: ``PretrainedStages``, a cache of unsupervised stages shared between runs;
- ``export``: trained networks out as NumPy ``Layer`` lists.

Nothing happens at import: a persistent compile cache, if wanted, is switched on by whoever runs
the study (``greedy.pipeline.compile_cache``).
"""

from greedy.learning.jax_engine.baseline import end_to_end, initial_network
from greedy.learning.jax_engine.export import export_layers
from greedy.learning.jax_engine.programs import release_compiled
from greedy.learning.jax_engine.reuse import PretrainedStages
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK
from greedy.learning.jax_engine.supervised import supervised_greedy
from greedy.learning.jax_engine.unsupervised import autoencoder_greedy, rbm_greedy

# Every procedure by its method name (``greedy.learning.config.METHODS``).
PROCEDURES = {
    "supervised_greedy": supervised_greedy,
    "autoencoder_greedy": autoencoder_greedy,
    "rbm_greedy": rbm_greedy,
    "end_to_end": end_to_end,
}

__all__ = [
    "DEFAULT_CHUNK",
    "PROCEDURES",
    "PretrainedStages",
    "autoencoder_greedy",
    "end_to_end",
    "export_layers",
    "initial_network",
    "rbm_greedy",
    "release_compiled",
    "supervised_greedy",
]
