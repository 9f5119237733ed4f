"""Files the study writes get the permissions of any file the user creates."""

from __future__ import annotations

import os


def default_file_mode() -> int:
    """0o666 less the umask: what ``open`` gives a new file (``tempfile.mkstemp`` gives 0o600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
