"""The evidence store: files kept by their SHA-256 (content-addressed).

An upload (API) or a file attached from the CLI is copied here, never referenced
where the user had it: ``<root>/<sha[:2]>/<sha>``. The same content is stored once;
the checksum recorded with the case is the file name, so a later check is a rehash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from dsp.errors import InputFormatError

__all__ = ["EvidenceStore", "MAX_EVIDENCE_BYTES"]

#: Largest evidence file taken through the API (SigMF recordings of a few seconds).
MAX_EVIDENCE_BYTES = 256 * 1024 * 1024


class EvidenceStore:
    """Content-addressed files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put_stream(
        self, stream: BinaryIO, *, max_bytes: int = MAX_EVIDENCE_BYTES
    ) -> tuple[str, int, Path]:
        """Copy ``stream`` into the store; return (sha256, size in bytes, stored path).

        Raises
        ------
        InputFormatError
            When the stream is longer than ``max_bytes`` (nothing is kept then).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise InputFormatError(f"tệp lớn hơn / file larger than {max_bytes} bytes",
                                               field="file")
                    digest.update(chunk)
                    out.write(chunk)
            sha = digest.hexdigest()
            final = self.path_of(sha)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                os.unlink(tmp)
            else:
                os.replace(tmp, final)
            return sha, size, final
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_file(self, path: Path) -> tuple[str, int, Path]:
        """Copy a local file into the store."""
        with Path(path).open("rb") as handle:
            return self.put_stream(handle, max_bytes=1 << 62)

    def copy_out(self, sha256: str, dest: Path) -> None:
        shutil.copyfile(self.path_of(sha256), dest)
