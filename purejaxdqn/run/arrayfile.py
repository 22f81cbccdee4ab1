"""One array per file: a plain `.npy`, or a `.npy` compressed as one stream.

`NAME.npy.gz` is `NAME.npy` gzipped (zlib's DEFLATE; `gunzip` gives the .npy back),
`NAME.npy.xz` the same with lzma. numpy writes through the codec's file object in
16 MiB blocks and reads in 256 KiB blocks, so compressing or decompressing holds
no second copy of the array, only a block.
"""

from __future__ import annotations

import gzip
import lzma
import os
from typing import IO, Callable

import numpy as np

# suffix -> open(path, mode, level); level None is the codec's default
CODECS: dict[str, Callable[[str, str, int | None], IO[bytes]]] = {
    ".gz": lambda path, mode, level: gzip.open(
        path, mode, **({} if level is None or "r" in mode else {"compresslevel": level})),
    ".xz": lambda path, mode, level: lzma.open(
        path, mode, **({} if level is None or "r" in mode else {"preset": level})),
}


def save(path: str, array: np.ndarray, codec: str = "", level: int | None = None) -> str:
    """Write `array` to `path` + `codec` (`path` ends in .npy; codec "" is plain); return it."""
    if not codec:
        np.save(path, array)
        return path
    with CODECS[codec](path + codec, "wb", level) as f:
        np.save(f, array)
    return path + codec


def find(path: str) -> str | None:
    """The file holding the array of `path` (.npy), plain or compressed; None if none."""
    for candidate in [path, *(path + codec for codec in CODECS)]:
        if os.path.exists(candidate):
            return candidate
    return None


def load(path: str) -> np.ndarray:
    """Read the array of `path` (.npy) from whichever form `find` sees."""
    found = find(path)
    if found is None:
        raise FileNotFoundError(path)
    codec = os.path.splitext(found)[1]
    if codec not in CODECS:
        return np.load(found)
    with CODECS[codec](found, "rb", None) as f:
        return np.load(f)
