"""The training loop: schedules, the history, fit's semantics, divergence, bad input."""

import math

import numpy as np
import pytest

import gspace
from gspace import datasets
from gspace.train import History, TrainingDiverged, evaluate, fit, make_schedule


@pytest.fixture(scope="module")
def data():
    return datasets.load("teacher", n_samples=200, n_features=4, n_classes=3, hidden=(6,))


def small_net(seed=0, bias=False):
    return gspace.MLP([4, 8, 3], bias=bias, rng=np.random.default_rng(seed))


# ---------------------------------------------------------------------------- schedules


def test_schedules_follow_their_formulas():
    c = make_schedule("constant", lr=0.3)
    e = make_schedule("exp", lr=0.1, k=0.01)
    m = make_schedule("multistep", lr=1.0, milestones=(120, 80), gamma=0.1)
    for t in range(200):
        assert c(t) == 0.3
        assert e(t) == pytest.approx(0.1 * math.exp(-0.01 * t), rel=1e-15)
        expected = 1.0 if t < 80 else (0.1 if t < 120 else 0.01)
        assert m(t) == pytest.approx(expected, rel=1e-12)


def test_schedule_repr_and_to_dict_are_readable():
    m = make_schedule("multistep", lr=1.0, milestones=(80, 120))
    assert m.to_dict() == {"name": "multistep", "lr": 1.0, "milestones": [80, 120], "gamma": 0.1}
    assert "80, 120" in repr(m) and "x0.1" in repr(m)
    assert make_schedule("exp", 0.1).to_dict() == {"name": "exp", "lr": 0.1, "k": 0.01}
    assert "exp(-0.01 * epoch)" in repr(make_schedule("exp", 0.1))


@pytest.mark.parametrize(
    "args, kwargs, exc, words",
    [
        (("cosine",), {}, ValueError, "constant, exp, multistep"),
        (("constant", 0.0), {}, ValueError, "> 0"),
        (("constant", -0.1), {}, ValueError, "> 0"),
        (("constant", float("inf")), {}, ValueError, "finite"),
        (("constant", "0.1"), {}, TypeError, "real number"),
        (("exp", 0.1), {"k": -0.01}, ValueError, ">= 0"),
        (("multistep", 0.1), {"gamma": 0.0}, ValueError, "> 0"),
        (("multistep", 0.1), {"milestones": (10, -1)}, ValueError, ">= 0"),
        (("multistep", 0.1), {"milestones": (1.5,)}, ValueError, "integers"),
        (("multistep", 0.1), {"milestones": 5}, TypeError, "sequence"),
    ],
)
def test_make_schedule_bad_input(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        make_schedule(*args, **kwargs)


def test_schedule_rejects_negative_epochs():
    with pytest.raises(ValueError, match=">= 0"):
        make_schedule("constant", 0.1)(-1)


# ---------------------------------------------------------------------------- history


def test_history_json_round_trip(tmp_path, data):
    _, h = fit(small_net(), gspace.SGD(lr=0.1), data, epochs=2, progress=False)
    path = h.to_json(tmp_path / "sub" / "history.json")
    back = History.from_json(path)
    assert back == h
    assert back.lr[0] is None and back.epoch == [0, 1, 2]


def test_history_final_and_bad_keys():
    h = History(epoch=[0, 1], test_acc=[0.2, 0.7])
    assert h.final("test_acc") == 0.7
    with pytest.raises(KeyError, match="accepted"):
        h.final("accuracy")
    with pytest.raises(KeyError, match="empty"):
        h.final("val_acc")


def test_history_from_json_rejects_other_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        History.from_json(bad)
    bad.write_text('{"epoch": [0], "oops": 1}')
    with pytest.raises(ValueError, match="oops"):
        History.from_json(bad)
    bad.write_text('{"epoch": [0, 1], "test_acc": [0.5]}')
    with pytest.raises(ValueError, match="'test_acc' must be a list with one value per epoch"):
        History.from_json(bad)
    bad.write_text('{"epoch": 3}')
    with pytest.raises(ValueError, match="'epoch' must be a list"):
        History.from_json(bad)
    bad.write_text('{"epoch": [0], "config": [1]}')
    with pytest.raises(ValueError, match="config"):
        History.from_json(bad)


# ---------------------------------------------------------------------------- fit


def test_fit_equals_a_hand_written_minibatch_loop(data):
    """fit = seeded permutation per epoch, consecutive mini-batches, lr from the schedule."""
    net0 = small_net(bias=True)
    sched = make_schedule("exp", lr=0.2, k=0.5)
    trained, h = fit(
        net0, gspace.SGD(lr=0.2), data, epochs=3, batch_size=17, schedule=sched, seed=7,
        progress=False,
    )  # fmt: skip
    rng = np.random.default_rng(7)
    net = net0
    n = len(data.y_train)
    for t in range(3):
        lr = 0.2 * math.exp(-0.5 * t)
        perm = rng.permutation(n)
        for start in range(0, n, 17):
            idx = perm[start : start + 17]
            _, g = net.loss_and_gradients(data.X_train[idx], data.y_train[idx], "cross_entropy")
            net = gspace.MLP.from_weights(
                [w - lr * gw for w, gw in zip(net.weights, g.weights)],
                [b - lr * gb for b, gb in zip(net.biases, g.biases)],
            )
    for a, b in zip(trained.weights, net.weights):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert h.lr == [None] + [pytest.approx(0.2 * math.exp(-0.5 * t)) for t in range(3)]


def test_fit_records_the_initial_and_final_network(data):
    net0 = small_net()
    trained, h = fit(net0, gspace.SGD(lr=0.1), data, epochs=2, progress=False)
    assert h.epoch == [0, 1, 2] and len(h.test_acc) == 3 and h.seconds[0] == 0.0
    assert h.train_loss[0] == pytest.approx(net0.loss(data.X_train, data.y_train, "cross_entropy"))
    assert h.val_acc[0] == pytest.approx(net0.accuracy(data.X_val, data.y_val))
    assert h.test_loss[-1] == pytest.approx(trained.loss(data.X_test, data.y_test, "cross_entropy"))
    assert h.final("test_acc") == pytest.approx(trained.accuracy(data.X_test, data.y_test))
    assert h.config["widths"] == [4, 8, 3] and h.config["batch_size"] == 32


def test_fit_does_not_modify_the_network(data):
    net0 = small_net()
    before = [w.copy() for w in net0.weights]
    trained, _ = fit(net0, gspace.SGD(lr=0.1), data, epochs=1, progress=False)
    assert trained is not net0
    for a, b in zip(net0.weights, before):
        np.testing.assert_array_equal(a, b)


def test_fit_learns_the_teacher(data):
    _, h = fit(small_net(), gspace.SGD(lr=0.1), data, epochs=30, batch_size=16, progress=False)
    assert h.final("train_loss") < 0.6 * h.train_loss[0]
    assert h.final("test_acc") > h.test_acc[0]


def test_fit_is_reproducible_and_seeded(data):
    runs = [
        fit(small_net(), gspace.SGD(lr=0.1), data, epochs=2, seed=s, progress=False)[0]
        for s in (1, 1, 2)
    ]
    np.testing.assert_array_equal(runs[0].weights[0], runs[1].weights[0])
    assert not np.array_equal(runs[0].weights[0], runs[2].weights[0])


def test_fit_with_mse_regresses_one_hot_rows(data):
    net0 = small_net()
    _, h = fit(net0, gspace.SGD(lr=0.1), data, epochs=1, loss="mse", progress=False)
    expected = net0.loss(data.X_train, np.eye(3)[data.y_train], "mse")
    assert h.train_loss[0] == pytest.approx(expected)


def test_fit_schedule_by_name_starts_at_the_optimizer_lr(data):
    opt = gspace.SGD(lr=0.4)
    _, h = fit(small_net(), opt, data, epochs=2, schedule="exp", progress=False)
    assert h.lr[1:] == [0.4, pytest.approx(0.4 * math.exp(-0.01))]
    assert opt.lr == h.lr[-1]


def test_fit_log_and_progress(data, capsys):
    lines = []
    fit(small_net(), gspace.SGD(lr=0.1), data, epochs=2, progress=False, log=lines.append)
    assert len(lines) == 3 and lines[0].startswith("epoch   0") and "test acc" in lines[-1]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    fit(small_net(), gspace.SGD(lr=0.1), data, epochs=1, progress=True)
    assert "step" in capsys.readouterr().err


def test_fit_stops_with_a_clear_message_when_training_diverges(data):
    with pytest.raises(TrainingDiverged, match=r"epoch 1.* \(lr=10\): .* is inf.*lower"):
        fit(small_net(), gspace.SGD(lr=10.0), data, epochs=3, loss="mse", progress=False)


@pytest.mark.parametrize("opt", [gspace.SGD, gspace.PathSGD, gspace.GSGD])
def test_the_divergence_hint_fits_the_optimizer(data, opt):
    """Only G-SGD runs are told about the skeleton-unit init."""
    with pytest.raises(TrainingDiverged) as info:
        fit(small_net(), opt(lr=1e10), data, epochs=3, loss="mse", progress=False)
    message = str(info.value)
    assert message.startswith(f"{opt.__name__} training diverged") and "lower" in message
    assert ("skeleton-unit" in message) == (opt is gspace.GSGD), message


def test_history_json_is_reproducible_byte_for_byte_and_timing_is_apart(tmp_path, data):
    paths = []
    for run in ("a", "b"):
        _, h = fit(small_net(), gspace.SGD(lr=0.1), data, epochs=3, progress=False)
        h.seconds[-1] += 1.0 if run == "b" else 0.0  # wall-clock times always differ a little
        paths.append(h.to_json(tmp_path / run / "history.json"))
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert "seconds" not in paths[0].read_text()
    timing = [p.with_name("history.timing.json").read_text() for p in paths]
    assert timing[0] != timing[1]
    assert History.from_json(paths[1]).seconds == h.seconds


def test_fit_stops_when_a_minibatch_loss_is_not_finite(data):
    class Blowup(gspace.SGD):  # returns a network whose output overflows
        def step(self, net, grads):
            return gspace.MLP.from_weights([w * 1e200 for w in net.weights])

    with pytest.raises(TrainingDiverged, match=r"epoch 1, step 1 \(lr=0.1\)"):
        fit(small_net(), Blowup(lr=0.1), data, epochs=1, progress=False)


def test_fit_wraps_the_optimizers_floating_point_error(data):
    class Exploding(gspace.SGD):
        def step(self, net, grads):
            raise FloatingPointError("SGD step produced non-finite weights in layer 0")

    with pytest.raises(TrainingDiverged, match="non-finite weights") as info:
        fit(small_net(), Exploding(lr=0.1), data, epochs=1, progress=False)
    assert isinstance(info.value, FloatingPointError)
    assert isinstance(info.value.__cause__, FloatingPointError)


def test_evaluate_in_chunks_equals_one_pass(data):
    net = small_net()
    whole = evaluate(net, data.X_train, data.y_train)
    chunked = evaluate(net, data.X_train, data.y_train, chunk=7)
    assert chunked == pytest.approx(whole, rel=1e-12)
    assert evaluate(net, data.X_val[:0], data.y_val[:0]) == (None, None)


@pytest.mark.parametrize(
    "y, kwargs, exc, words",
    [
        (np.array([0, 1, -1]), {}, ValueError, r"0\.\.2"),
        (np.array([0, 1, 3]), {"loss": "mse"}, ValueError, r"0\.\.2"),
        (np.array([0, 1, 1]), {"loss": "hinge"}, ValueError, "mse, cross_entropy"),
        (np.array([0, 1, 1]), {"chunk": 0}, ValueError, "chunk"),
        (np.array([0, 1]), {}, ValueError, r"len\(X\)"),
        (np.array([[0, 1, 1]]), {}, ValueError, r"shape \(n,\)"),
        (np.array([0.0, 1.0, 1.0]), {}, TypeError, "integer"),
    ],
)
def test_evaluate_bad_input(y, kwargs, exc, words):
    """A negative label, an unknown loss or a length mismatch must not give a silent number."""
    with pytest.raises(exc, match=words):
        evaluate(small_net(), np.ones((3, 4)), y, **kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
        ({"epochs": 1, "loss": "hinge"}, ValueError, "mse, cross_entropy"),
        ({"epochs": 1, "schedule": "cosine"}, ValueError, "constant, exp, multistep"),
        ({"epochs": 1, "schedule": 0.1}, TypeError, "schedule"),
        ({"epochs": 2, "schedule": lambda t: 0.1 - 0.1 * t}, ValueError, "schedule\\(1\\)"),
        ({"epochs": 1, "seed": -3}, ValueError, "seed"),
    ],
)
def test_fit_bad_input(data, kwargs, exc, words):
    opt = gspace.SGD(lr=0.1)
    with pytest.raises(exc, match=words):
        fit(small_net(), opt, data, progress=False, **kwargs)
    assert opt.lr == 0.1 and opt.state == {}


def test_fit_rejects_a_network_that_does_not_fit_the_data(data):
    with pytest.raises(ValueError, match=r"\[4, \.\.\., 3\]"):
        fit(gspace.MLP([5, 3]), gspace.SGD(lr=0.1), data, epochs=1)
    with pytest.raises(TypeError, match="Dataset"):
        fit(small_net(), gspace.SGD(lr=0.1), (data.X_train, data.y_train), epochs=1)
    with pytest.raises(TypeError, match="MLP"):
        fit([np.eye(4)], gspace.SGD(lr=0.1), data, epochs=1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(small_net(), "sgd", data, epochs=1)


def test_learning_rate_must_be_positive():
    with pytest.raises(ValueError, match="> 0"):
        gspace.SGD(lr=0.0)
    with pytest.raises(ValueError, match="> 0"):
        make_schedule("exp", lr=-0.1)


def test_diverged_error_carries_the_history_so_far(data):
    class Blowup(gspace.SGD):
        def step(self, net, grads):
            if self.state.get("calls", 0) >= 5:  # 5 steps = one epoch of 140 samples
                return gspace.MLP.from_weights([w * 1e200 for w in net.weights])
            self.state["calls"] = self.state.get("calls", 0) + 1
            return super().step(net, grads)

    with pytest.raises(TrainingDiverged) as info:
        fit(small_net(), Blowup(lr=0.1), data, epochs=3, progress=False)
    h = info.value.history
    assert h.epoch == [0, 1]
    assert all(len(getattr(h, k)) == 2 for k in ("lr", "train_loss", "val_acc", "test_acc"))


def test_history_table_keeps_first_and_last_epochs(data):
    _, h = fit(small_net(), gspace.SGD(lr=0.1), data, epochs=9, progress=False)
    lines = h.table(max_rows=4).splitlines()
    assert lines[0].split()[:2] == ["epoch", "lr"]
    epochs = [int(line.split()[0]) for line in lines[1:]]
    assert epochs[0] == 0 and epochs[-1] == 9 and len(epochs) <= 5
    assert f"{h.final('test_acc'):.4f}" in lines[-1]


def test_make_optimizer_maps_names_to_classes():
    from gspace.train import make_optimizer

    opt = make_optimizer("sgd", 0.2, momentum=0.5, weight_decay=0.01)
    assert type(opt) is gspace.SGD and (opt.lr, opt.momentum, opt.weight_decay) == (0.2, 0.5, 0.01)
    with pytest.raises(ValueError, match="accepted: sgd, pathsgd, gsgd"):
        make_optimizer("adagrad", 0.1)
    with pytest.raises(ValueError, match="> 0"):
        make_optimizer("sgd", 0.0)
    for name in ("sgd", "pathsgd", "gsgd"):  # the paper's three: no momentum, no decay
        opt = make_optimizer(name, 0.2)
        assert (opt.lr, opt.momentum, opt.weight_decay) == (0.2, 0.0, 0.0)


def test_make_optimizer_baselines_beyond_the_paper():
    from gspace.train import make_optimizer

    made = {name: make_optimizer(name, 0.01) for name in gspace.train.OPTIMIZERS}
    assert type(made["sgd"]) is gspace.SGD and type(made["pathsgd"]) is gspace.PathSGD
    assert type(made["sgd-momentum"]) is gspace.SGD and made["sgd-momentum"].momentum == 0.9
    assert type(made["gsgd-momentum"]) is gspace.GSGD and made["gsgd-momentum"].momentum == 0.9
    assert type(made["adam"]) is gspace.Adam and made["adam"].betas == (0.9, 0.999)
    assert type(made["enorm"]) is gspace.ENorm
    assert all(opt.lr == 0.01 for opt in made.values())
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("adam", 0.0)
    for name in ("adam", "enorm", "sgd-momentum"):
        with pytest.raises(ValueError, match="takes no momentum"):
            make_optimizer(name, 0.1, momentum=0.5)


def test_fit_trains_a_plain_cnn_on_rows_read_as_square_images():
    """A PlainCNN reads each 64-pixel digits row as one 8x8 image: fit's first mini-batch is
    the network's own step on ``X.reshape(n, 1, 8, 8)``; rows that are not square images of
    the CNN's channels are refused before training."""
    data = gspace.datasets.load("digits")
    net = gspace.PlainCNN(1, [4, 4], strides=[2, 1], rng=np.random.default_rng(0))
    trained, h = fit(net, gspace.SGD(lr=0.1), data, epochs=1, batch_size=len(data.y_train))
    X = data.X_train[np.random.default_rng(0).permutation(len(data.y_train))]
    y = data.y_train[np.random.default_rng(0).permutation(len(data.y_train))]
    _, g = net.loss_and_gradients(X.reshape(-1, 1, 8, 8), y, "cross_entropy")
    for a, w, gw in zip(trained.weights, net.weights, g.weights):
        np.testing.assert_allclose(a, w - 0.1 * gw, rtol=1e-12, atol=1e-14)
    assert h.test_acc[0] == pytest.approx(
        np.mean(net.forward(data.X_test.reshape(-1, 1, 8, 8)).argmax(1) == data.y_test)
    )
    two = gspace.PlainCNN(2, [4], rng=np.random.default_rng(0))  # 64 = 2 x 32: not square
    with pytest.raises(ValueError, match="2 input channels"):
        fit(two, gspace.SGD(lr=0.1), data, epochs=1)


# ---------------------------------------------------------------------------- former doctests
def test_history_table_format():
    h = History(epoch=[0, 1], lr=[None, 0.1], train_loss=[2.0, 1.0], train_acc=[0.1, 0.5])
    h.val_acc, h.test_acc = [0.1, 0.4], [0.2, 0.45]
    assert h.table() == (
        "epoch       lr  train loss  train acc  val acc  test acc\n"
        "    0        -      2.0000     0.1000   0.1000    0.2000\n"
        "    1      0.1      1.0000     0.5000   0.4000    0.4500"
    )


def test_make_optimizer_reprs():
    from gspace.train import make_optimizer

    assert repr(make_optimizer("sgd", 0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, weight_decay=0.0)"
    )
    assert repr(make_optimizer("gsgd-momentum", 0.01)) == (
        "GSGD(lr=0.01, momentum=0.9, weight_decay=0.0)"
    )


def test_schedule_values_by_hand():
    s = make_schedule("multistep", lr=1.0, milestones=(2, 4))
    assert [s(t) for t in range(6)] == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01, 0.01])
    assert round(make_schedule("exp", lr=0.1, k=0.01)(100), 6) == 0.036788


def test_evaluate_by_hand():
    """The identity network predicts class 0 for [1, 0] and class 1 for [0, 1]."""
    net = gspace.MLP.from_weights([np.eye(2)])
    assert evaluate(net, np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 0]))[1] == 0.5
