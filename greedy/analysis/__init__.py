"""The analysis: statistics over seeds, diagnostics of trained networks, figures, and the study
designs the chapters call (``studies``, ``chapters``, ``tutorial``), with ``glue`` for the book."""
