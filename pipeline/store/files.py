"""Writing files beside the store: a new file appears whole or not at all, and never replaces one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pipeline.errors import StorageError


class atomic_file:
    """Write to a temp file beside `path`; on success fsync and rename; never replaces a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self):
        if self.path.exists():
            raise StorageError(f"{self.path} already exists; give a new file name")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=self.path.parent)
        self.temp = Path(name)
        self.handle = os.fdopen(fd, "w+b")
        return self.handle

    def __exit__(self, exc_type, *_: object) -> None:
        try:
            if exc_type is None:
                self.handle.flush()
                os.fsync(self.handle.fileno())
            self.handle.close()
            if exc_type is None:
                os.link(self.temp, self.path)
        finally:
            self.temp.unlink(missing_ok=True)
