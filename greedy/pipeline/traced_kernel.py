"""A notebook kernel that records which library lines it executes.

Started as ``python -m greedy.pipeline.traced_kernel DATA_FILE FOLDER[,FOLDER...] -f CONNECTION_FILE``:
coverage measures the given package folders only (the rest of the process runs untraced, so
JAX's and NumPy's own Python code costs nothing extra) and saves to ``DATA_FILE`` when the kernel
shuts down; then ipykernel starts as ``python -m ipykernel_launcher`` would.
"""

from __future__ import annotations

import sys


def main() -> None:
    data_file, folders = sys.argv[1], sys.argv[2].split(",")
    del sys.argv[1:3]
    import coverage

    # config_file=False: a user's .coveragerc must not change what is measured.
    tracer = coverage.Coverage(data_file=data_file, source=folders, config_file=False, auto_data=True)
    tracer.start()  # auto_data: stopped and saved at the interpreter's exit, after ipykernel returns
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
