"""The learning library: data sets, training settings, the two engines, the procedures and their records.

- ``data``, ``config``: the problems and the settings, validated before any work;
- ``keras_engine``: the Keras 3 reference, on TensorFlow or JAX (``backend`` chooses and seeds it);
- ``jax_engine``: the same procedures in pure JAX, many seeds at once;
- ``procedures``: one entry point (``run``) for either engine;
- ``tuning``: a method's settings chosen on validation data carved from the training data;
- ``stages``, ``records``: what a stage of a procedure measured, as tidy rows;
- ``mlp``: a network as NumPy arrays, whichever engine trained it.
"""
