"""``ember train``: resume equals an uninterrupted run, Ctrl-C, NaN handling, bad names, outputs."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember import cli, train

TINY = ["--dataset", "sample", "--limit-train", "200", "--limit-test", "100", "--batch-size", "50",
        "--no-progress", "--no-plots"]


def _run(out, *extra):
    return cli.main(["train", *TINY, "--out", str(out), *extra])


def _weights(out):
    ckpt = ember.load(os.path.join(out, "checkpoint.pt"), weights_only=False)
    return {k: v._data.copy() for k, v in ckpt["model"].items()}, ckpt


def _same_weights(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _metrics(out):
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    return [{k: v for k, v in e.items() if k != "seconds"} for e in m["epochs"]]


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    assert _run(out, "--epochs", "2", "--schedule", "step", "--step-size", "1", "--augment") == 0
    return out


def test_resume_after_an_epoch_equals_uninterrupted_run(straight, tmp_path, capsys):
    assert _run(tmp_path, "--epochs", "1", "--schedule", "step", "--step-size", "1", "--augment") == 0
    one = _weights(tmp_path)[1]
    assert one["epoch"] == 1 and one["position"] is None
    assert cli.main(["train", "--out", str(tmp_path), "--resume", "--epochs", "2", "--no-progress", "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "final test accuracy" in out
    _same_weights(_weights(straight)[0], _weights(tmp_path)[0])
    assert _metrics(straight) == _metrics(tmp_path)


@pytest.mark.parametrize("how", ["raise", "SIGINT", "SIGTERM"])
def test_ctrl_c_mid_epoch_leaves_resumable_checkpoint(straight, tmp_path, monkeypatch, capsys, how):
    def interrupt(epoch, batch):
        if (epoch, batch) == (2, 2):
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), getattr(signal, how))  # the trainer's handler stops after this batch
    monkeypatch.setattr(train, "_after_step_hook", interrupt)
    assert _run(tmp_path, "--epochs", "2", "--schedule", "step", "--step-size", "1", "--augment") == 130
    assert "resumable checkpoint" in capsys.readouterr().out
    ckpt = _weights(tmp_path)[1]
    assert ckpt["epoch"] == 1 and ckpt["position"]["batch"] == 2
    monkeypatch.setattr(train, "_after_step_hook", None)
    assert cli.main(["train", "--out", str(tmp_path), "--resume", "--no-progress", "--no-plots"]) == 0
    _same_weights(_weights(straight)[0], _weights(tmp_path)[0])
    assert _metrics(straight) == _metrics(tmp_path)


def test_worker_processes_give_the_same_run(tmp_path):
    assert _run(tmp_path / "w0", "--epochs", "1", "--augment") == 0
    assert _run(tmp_path / "w2", "--epochs", "1", "--augment", "--num-workers", "2") == 0
    _same_weights(_weights(tmp_path / "w0")[0], _weights(tmp_path / "w2")[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, capsys):
    assert _run(tmp_path, "--epochs", "1") == 0
    before = (tmp_path / "checkpoint.pt").read_bytes()
    code = cli.main(["train", "--out", str(tmp_path), "--resume", "--epochs", "2", "--lr", "1e30", "--no-progress",
                     "--no-plots"])
    assert code == 1
    out = capsys.readouterr().out
    assert "training stopped" in out and "last good checkpoint (end of epoch 1) is intact" in out
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


@pytest.mark.parametrize("opt,bad", [("--optimizer", "sgdd"), ("--dataset", "imagenet"), ("--schedule", "linear"),
                                     ("--model", "nonet")])
def test_unknown_names_list_the_valid_ones(opt, bad, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", opt, bad])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"invalid choice: '{bad}'" in err and "choose from" in err


def test_outputs_metrics_plots_and_sample_fallback(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from ember.vision import datasets
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", [])
    code = cli.main(["train", "--model", "mlp", "--data-root", str(tmp_path / "nodata"), "--limit-train", "100",
                     "--limit-test", "50", "--epochs", "2", "--batch-size", "50", "--optimizer", "adam",
                     "--schedule", "cosine", "--out", str(tmp_path / "run")])
    assert code == 0
    out = capsys.readouterr().out
    assert "using the sample shipped with ember" in out and "apt-get install dataset-fashion-mnist" in out
    assert "epoch 2/2" in out and "final test accuracy" in out
    with open(tmp_path / "run" / "metrics.json") as f:
        m = json.load(f)
    assert [e["epoch"] for e in m["epochs"]] == [1, 2]
    assert sum(m["epochs"][0]["test_loss_hist"]) == 50 and sum(m["epochs"][0]["train_loss_hist"]) == 100
    for name in ("curves.png", "loss_distributions.png", "metrics.csv", "checkpoint.pt"):
        assert (tmp_path / "run" / name).stat().st_size > 0


def test_ctrl_c_in_a_real_process_exits_130_and_resumes(tmp_path):
    cmd = [sys.executable, "-m", "ember", "train", "--model", "mlp", "--dataset", "sample", "--limit-train", "3000",
           "--limit-test", "100", "--epochs", "1", "--batch-size", "50", "--no-progress", "--no-plots", "--out",
           str(tmp_path)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in p.stdout:
        if line.startswith("model:"):
            break
    os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C does: the whole process group
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "resumable checkpoint" in out
    ckpt = _weights(tmp_path)[1]
    assert ckpt["epoch"] == 0 and ckpt["position"]["batch"] >= 1
    r = subprocess.run([sys.executable, "-m", "ember", "train", "--out", str(tmp_path), "--resume", "--no-progress",
                        "--no-plots"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "final test accuracy" in r.stdout, r.stderr


def test_python_m_ember_help():
    r = subprocess.run([sys.executable, "-m", "ember", "train", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--resume" in r.stdout and "--limit-train" in r.stdout


def test_zoo_models_are_adapted_to_28x28_or_refused():
    model = train._build_model("lenet5")
    assert tuple(model(ember.zeros(3, 1, 28, 28)).shape) == (3, 10)
    with pytest.raises(ValueError, match="cannot classify 28x28 images.*try course"):
        train._build_model("alexnet")
