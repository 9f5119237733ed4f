"""The fast engine: the procedures in pure JAX, every fit one jitted ``lax.scan``, seeds vmapped.

- ``fit``: pure functions that initialize, forward and train a batch of networks (no state, no I/O);
- ``scores``: accuracy, reconstruction error and divergence of a batch;
- ``seeds``: which seeds train together (fixed-size chunks) and what each stage recorded;
- ``rbm``: restricted Boltzmann machines trained by contrastive divergence;
- ``programs``: the compiled programs, in one cache the engine bounds itself (``release_compiled`` frees it);
- ``procedures``: supervised, autoencoder and RBM greedy pretraining, end to end, composed of the above;
- ``export``: trained networks out as NumPy ``Layer`` lists.

Nothing happens at import: a persistent compile cache, if wanted, is switched on by whoever runs
the study (``greedy.pipeline.compile_cache``).
"""

from greedy.learning.jax_engine.export import export_layers
from greedy.learning.jax_engine.procedures import (
    autoencoder_greedy,
    end_to_end,
    initial_network,
    rbm_greedy,
    supervised_greedy,
)
from greedy.learning.jax_engine.programs import release_compiled
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK, Networks

__all__ = [
    "DEFAULT_CHUNK",
    "Networks",
    "autoencoder_greedy",
    "end_to_end",
    "export_layers",
    "initial_network",
    "rbm_greedy",
    "release_compiled",
    "supervised_greedy",
]
