"""The pipeline that executes the study: the manifest, one experiment's run (``runner``), dispatch to
serial or Dask workers, the compile cache, the command line, README rendering and the benchmark.

Nothing here computes a number the book reports, so changing it never invalidates a result.
"""
