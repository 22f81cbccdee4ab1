import gzip
import lzma
import os

import numpy as np
import pytest

from purejaxdqn.run import arrayfile

ARRAYS = {
    "uint8 frames": np.random.default_rng(1).integers(0, 256, (3, 50, 2, 84, 84), np.uint8),
    "float32": np.linspace(-3, 3, 1_000, dtype=np.float32).reshape(10, 100),
    "bool": np.arange(97) % 3 == 0,
    "scalar": np.array(7, np.int32),
    "empty": np.zeros((0, 4), np.int64),
    "strided view": np.arange(600, dtype=np.int16).reshape(20, 30)[::2, ::3],
}


@pytest.mark.parametrize("codec, opener", [("", open), (".gz", gzip.open), (".xz", lzma.open)])
@pytest.mark.parametrize("name", ARRAYS)
def test_round_trip_is_bit_exact_and_the_file_is_the_npy(tmp_path, codec, opener, name):
    array = ARRAYS[name]
    path = str(tmp_path / "a.npy")
    written = arrayfile.save(path, array, codec, 1 if codec else None)
    assert written == path + codec and os.listdir(tmp_path) == ["a.npy" + codec]
    assert arrayfile.find(path) == written
    back = arrayfile.load(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == np.ascontiguousarray(array).tobytes()
    with opener(written, "rb") as f:  # decompressing the file gives numpy's own .npy
        np.testing.assert_array_equal(np.load(f), array)


def test_missing_array(tmp_path):
    assert arrayfile.find(str(tmp_path / "none.npy")) is None
    with pytest.raises(FileNotFoundError):
        arrayfile.load(str(tmp_path / "none.npy"))
