"""``ember train``: train a classifier on (Fashion-)MNIST the way the course does, from the command line.

The data are normalised with the training set's mean and standard deviation (the notes'
``train_input.sub_(mu).div_(std)``); each epoch shows a progress bar, prints train/test loss and error,
and writes an atomic, resumable checkpoint (model, optimizer, scheduler, every RNG state, metrics).
Ctrl-C (or SIGTERM) writes a checkpoint at the current batch and exits 130; ``--resume`` continues
from it with the same result as an uninterrupted run. A NaN/inf loss stops training, leaving the last
good checkpoint untouched. ``metrics.json``/``metrics.csv`` and PNG plots (with matplotlib) go to ``--out``.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import sys
import time

import numpy as np

import ember

__all__ = ["add_arguments", "run", "main", "DATASETS", "OPTIMIZERS", "SCHEDULES"]

DATASETS = ["fashion-mnist", "mnist", "sample"]
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam"]
SCHEDULES = ["none", "step", "cosine", "onecycle", "exponential"]
DEFAULT_MODEL = "course"
CHECKPOINT = "checkpoint.pt"
HIST_BINS = np.linspace(-8.0, 2.0, 51)  # log10 of the per-sample loss; the first bin also holds losses <= 1e-8

DEFAULTS = dict(model=DEFAULT_MODEL, dataset="fashion-mnist", data_root="data", optimizer="sgd", lr=None,
                momentum=None, weight_decay=None, schedule="cosine", step_size=None, gamma=None, epochs=5,
                batch_size=100, augment=False, seed=0, limit_train=None, limit_test=None, num_workers=0)
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2, "adadelta": 1.0,
              "adamax": 2e-3, "nadam": 2e-3, "radam": 1e-3}

# called after every optimizer step with (epoch, batch); tests use it to simulate Ctrl-C
_after_step_hook = None


class _NonFiniteLoss(Exception):
    pass


def model_names() -> list[str]:
    try:
        from .vision.models import list_models
        return [DEFAULT_MODEL, "mlp"] + list_models()
    except Exception:  # the zoo needs all of ember.nn; without it only the built-in names are offered
        return [DEFAULT_MODEL, "mlp"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``ember train`` options. Defaults are applied after merging with a resumed checkpoint's."""
    d = DEFAULTS
    S = argparse.SUPPRESS  # absent unless given: merged over a resumed checkpoint's settings
    p.add_argument("--model", choices=model_names(), default=S, metavar="MODEL",
                   help="'course' is the course's MNIST network (default), 'mlp' a 784-200-10 perceptron; "
                        "the others are ember.vision.models names")
    p.add_argument("--dataset", choices=DATASETS, default=S,
                   help="fashion-mnist (default: the full set if found, else the shipped sample), mnist, or sample")
    p.add_argument("--data-root", default=S, help=f"where to look for the IDX files (default: {d['data_root']})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=S, help=f"default: {d['optimizer']}")
    p.add_argument("--lr", type=float, default=S, help="learning rate (default: 0.05 for sgd, 1e-3 for adam)")
    p.add_argument("--momentum", type=float, default=S, help="sgd/rmsprop momentum (default: 0.9 for sgd, else 0)")
    p.add_argument("--weight-decay", type=float, default=S, help="default: 0 (0.01 for adamw)")
    p.add_argument("--schedule", choices=SCHEDULES, default=S,
                   help="learning-rate schedule, stepped per epoch (onecycle: per batch); default: cosine")
    p.add_argument("--step-size", type=int, default=S, help="epochs between lr drops for --schedule step")
    p.add_argument("--gamma", type=float, default=S, help="lr factor for step (0.1) / exponential (0.9)")
    p.add_argument("--epochs", type=int, default=S, help=f"default: {d['epochs']}")
    p.add_argument("--batch-size", type=int, default=S, help=f"default: {d['batch_size']}")
    p.add_argument("--augment", action="store_true", default=S,
                   help="random shifts (crop with 2-pixel padding) and horizontal flips of the training images")
    p.add_argument("--seed", type=int, default=S, help=f"default: {d['seed']}")
    p.add_argument("--out", default="runs/train", help="output directory (default: runs/train)")
    p.add_argument("--resume", nargs="?", const="", default=None, metavar="CHECKPOINT",
                   help=f"continue from CHECKPOINT (default: OUT/{CHECKPOINT}) with its settings")
    p.add_argument("--num-workers", type=int, default=S, help="DataLoader worker processes (default: 0)")
    p.add_argument("--limit-train", type=int, default=S, help="use only the first N training images")
    p.add_argument("--limit-test", type=int, default=S, help="use only the first N test images")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots")


# ---- data -----------------------------------------------------------------------------------------

def _load_data(cfg: dict, log) -> tuple:
    from .vision import datasets
    name = cfg["dataset"]
    root = cfg["data_root"]
    if name == "sample":
        train, test = datasets.FashionMNIST(sample=True), datasets.FashionMNIST(sample=True, train=False)
        log(f"data: the Fashion-MNIST sample shipped with ember ({len(train)} train / {len(test)} test images)")
    elif name == "mnist":
        train, test = datasets.MNIST(root), datasets.MNIST(root, train=False)
        log(f"data: MNIST from {train.source_folder} ({len(train)} train / {len(test)} test images)")
    else:
        try:
            train, test = datasets.FashionMNIST(root), datasets.FashionMNIST(root, train=False)
            log(f"data: full Fashion-MNIST from {train.source_folder} ({len(train)} train / {len(test)} test images)")
        except RuntimeError as e:
            if not str(e).startswith("Dataset not found"):
                raise
            train, test = datasets.FashionMNIST(sample=True), datasets.FashionMNIST(sample=True, train=False)
            log(f"data: full Fashion-MNIST not found (looked in {root}/FashionMNIST/raw, {root}, "
                f"{datasets.FashionMNIST.apt_dir}); using the sample shipped with ember ({len(train)} train / "
                f"{len(test)} test images). For the full set: sudo apt-get install dataset-fashion-mnist")
    x_train, y_train = train.data._data, train.targets._data
    x_test, y_test = test.data._data, test.targets._data
    if cfg["limit_train"]:
        x_train, y_train = x_train[:cfg["limit_train"]], y_train[:cfg["limit_train"]]
    if cfg["limit_test"]:
        x_test, y_test = x_test[:cfg["limit_test"]], y_test[:cfg["limit_test"]]
    x_train = x_train.astype(np.float32)[:, None] / np.float32(255)
    x_test = x_test.astype(np.float32)[:, None] / np.float32(255)
    mu, std = float(x_train.mean()), float(x_train.std())
    x_train = (x_train - np.float32(mu)) / np.float32(std)
    x_test = (x_test - np.float32(mu)) / np.float32(std)
    t = ember.from_numpy
    return t(x_train), t(y_train.astype(np.int64)), t(x_test), t(y_test.astype(np.int64)), (mu, std)


def _augment(x: ember.Tensor, g: ember.Generator) -> ember.Tensor:
    """Per image: a random shift of up to 2 pixels (zero-padded crop) and a horizontal flip with p=0.5."""
    a = x._data
    n, c, h, w = a.shape
    rng = g._rng
    oy, ox = rng.integers(0, 5, n), rng.integers(0, 5, n)
    flip = rng.random(n) < 0.5
    padded = np.pad(a, ((0, 0), (0, 0), (2, 2), (2, 2)))
    cols = ox[:, None] + np.arange(w)[None, :]
    cols = np.where(flip[:, None], cols[:, ::-1], cols)
    rows = oy[:, None] + np.arange(h)[None, :]
    out = padded.transpose(0, 2, 3, 1)[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return ember.from_numpy(np.ascontiguousarray(out.transpose(0, 3, 1, 2)))


# ---- model, optimizer, schedule ---------------------------------------------------------------------

def _build_model(name: str):
    if name == "mlp":  # the notes' fully connected baseline: 784 -> 200 -> 10
        nn = ember.nn
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    from .vision import models
    if name == DEFAULT_MODEL:
        return models.course_mnist_net()
    try:
        model = models.get_model(name, num_classes=10)
    except TypeError:
        model = models.get_model(name)
    return _adapt(name, model)


def _adapt(name: str, model):
    """Zoo models made for RGB or 32x32 images get the 1x28x28 images repeated to their channels
    and zero-padded to 32x32 when they need it (found by trying a forward pass)."""
    nn = ember.nn
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    channels = convs[0].in_channels if convs else 1
    errors = []
    for pad in (0, 2):
        adapted = model if (channels, pad) == (1, 0) else nn.Sequential(_ToInput(channels, pad), model)
        was_training = model.training
        try:
            with ember.no_grad():
                model.eval()
                out = adapted(ember.zeros(2, 1, 28, 28))
            if tuple(out.shape) == (2, 10):
                return adapted
            errors.append(f"output of shape {tuple(out.shape)}, expected (2, 10)")
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            model.train(was_training)
    raise ValueError(f"--model {name} cannot classify 28x28 images into 10 classes ({errors[-1]}); "
                     f"try course, mlp, lenet5 or a *_cifar model")


def _ToInput(channels: int, pad: int):
    return _make_to_input()(channels, pad)


def _make_to_input():
    nn = ember.nn

    class ToInput(nn.Module):
        """Repeat a 1-channel image to ``channels`` and zero-pad each side by ``pad`` pixels."""

        def __init__(self, channels: int, pad: int):
            super().__init__()
            self.channels, self.pad = channels, pad

        def forward(self, x):
            if self.channels != 1:
                x = x.expand(-1, self.channels, -1, -1)
            if self.pad:
                x = nn.functional.pad(x, (self.pad,) * 4)
            return x

        def extra_repr(self) -> str:
            return f"channels={self.channels}, pad={self.pad}"
    return ToInput


def _build_optimizer(cfg: dict, params):
    from . import optim
    name, lr, wd, mom = cfg["optimizer"], cfg["lr"], cfg["weight_decay"], cfg["momentum"]
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd)
    if name == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=mom, weight_decay=wd)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad, "adadelta": optim.Adadelta,
           "adamax": optim.Adamax, "nadam": optim.NAdam, "radam": optim.RAdam}[name]
    return cls(params, lr=lr, weight_decay=wd)


def _build_scheduler(cfg: dict, opt, steps_per_epoch: int):
    from .optim import lr_scheduler as S
    s, epochs = cfg["schedule"], cfg["epochs"]
    if s == "step":
        return S.StepLR(opt, step_size=cfg["step_size"] or max(1, epochs // 3), gamma=cfg["gamma"] or 0.1)
    if s == "cosine":
        return S.CosineAnnealingLR(opt, T_max=epochs)
    if s == "exponential":
        return S.ExponentialLR(opt, gamma=cfg["gamma"] or 0.9)
    if s == "onecycle":
        group = opt.param_groups[0]
        cycle = group.get("momentum", 0) > 0 or "betas" in group
        return S.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=epochs * steps_per_epoch, cycle_momentum=cycle)
    return None


# ---- checkpoints, metrics, plots --------------------------------------------------------------------

def _hist(losses: np.ndarray) -> list[int]:
    logl = np.log10(np.maximum(losses, 10.0 ** HIST_BINS[0]))
    return np.histogram(np.clip(logl, HIST_BINS[0], HIST_BINS[-1]), bins=HIST_BINS)[0].tolist()


def _write_metrics(out: str, history: list[dict], info: dict) -> None:
    with open(os.path.join(out, "metrics.json.tmp"), "w") as f:
        json.dump({**info, "hist_log10_bins": HIST_BINS.tolist(), "epochs": history}, f, indent=1)
    os.replace(os.path.join(out, "metrics.json.tmp"), os.path.join(out, "metrics.json"))
    keys = ["epoch", "train_loss", "train_error", "test_loss", "test_error", "lr", "seconds"]
    with open(os.path.join(out, "metrics.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for h in history:
            w.writerow([h[k] for k in keys])


def _plot(out: str, history: list[dict], log) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        log("(matplotlib is not installed: no plots; pip install matplotlib)")
        return
    ep = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in zip(axes, ("loss", "error")):
        ax.plot(ep, [h[f"train_{key}"] for h in history], "o-", label="train")
        ax.plot(ep, [h[f"test_{key}"] for h in history], "s-", label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_yscale("log")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(os.path.join(out, "curves.png"), dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    centers = 10.0 ** ((HIST_BINS[:-1] + HIST_BINS[1:]) / 2)
    cmap = plt.get_cmap("viridis")
    for ax, key in zip(axes, ("train", "test")):
        for i, h in enumerate(history):
            counts = np.asarray(h[f"{key}_loss_hist"], dtype=float)
            if len(counts) != len(centers):  # written by an ember with other bins
                continue
            ax.plot(centers, counts / max(counts.sum(), 1), color=cmap(i / max(len(history) - 1, 1)),
                    label=f"epoch {h['epoch']}")
        ax.set_xscale("log")
        ax.set_xlabel(f"per-sample {key} loss (leftmost point: <= 1e-8, including 0)")
        ax.set_title(f"{key} loss distribution")
    axes[0].set_ylabel("fraction of samples")
    axes[1].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss_distributions.png"), dpi=100)
    plt.close(fig)


# ---- the run ----------------------------------------------------------------------------------------

def _resolve(args: argparse.Namespace) -> tuple[dict, dict | None, str | None]:
    """Settings: defaults <- the resumed checkpoint's <- options given on the command line."""
    cfg = dict(DEFAULTS)
    ckpt, path = None, None
    if args.resume is not None:
        path = args.resume or os.path.join(args.out, CHECKPOINT)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--resume: no checkpoint at {path}")
        ckpt = ember.load(path, weights_only=False)
        cfg.update(ckpt["config"])
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            cfg[key] = value
    if cfg["lr"] is None:
        cfg["lr"] = DEFAULT_LR[cfg["optimizer"]]
    if cfg["momentum"] is None:
        cfg["momentum"] = 0.9 if cfg["optimizer"] == "sgd" else 0.0
    if cfg["weight_decay"] is None:
        cfg["weight_decay"] = 0.01 if cfg["optimizer"] == "adamw" else 0.0
    for key in ("epochs", "batch_size"):
        if cfg[key] <= 0:
            raise ValueError(f"--{key.replace('_', '-')} must be positive, got {cfg[key]}")
    return cfg, ckpt, path


def _progress(total: int, desc: str, enabled: bool):
    if enabled:
        try:
            from tqdm import tqdm
            return tqdm(total=total, desc=desc, unit="batch", dynamic_ncols=True, leave=False)
        except ImportError:
            pass
    return None


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; returns the exit status (0, 1 for a NaN/inf loss, 130 when interrupted)."""
    try:
        return _run(args)
    except KeyboardInterrupt:  # before training started: nothing to save
        print("\ninterrupted", flush=True)
        return 130


def _run(args: argparse.Namespace) -> int:
    log = lambda msg: print(msg, flush=True)
    cfg, ckpt, ckpt_path = _resolve(args)
    out = args.out
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, CHECKPOINT)
    F = ember.nn.functional

    x_train, y_train, x_test, y_test, (mu, std) = _load_data(cfg, log)
    ember.manual_seed(cfg["seed"])
    model = _build_model(cfg["model"])
    opt = _build_optimizer(cfg, model.parameters())
    loader_gen = ember.Generator().manual_seed(cfg["seed"] + 1)
    aug_gen = ember.Generator().manual_seed(cfg["seed"] + 2)
    loader = ember.utils.data.DataLoader(ember.utils.data.TensorDataset(x_train, y_train),
                                         batch_size=cfg["batch_size"], shuffle=True, generator=loader_gen,
                                         num_workers=cfg["num_workers"])
    sched = _build_scheduler(cfg, opt, len(loader))

    history: list[dict] = []
    start_epoch, position = 1, None
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        if getattr(args, "lr", None) is not None and args.lr != ckpt["config"]["lr"]:  # an explicit --lr wins
            for group in opt.param_groups:
                group["lr"] = args.lr
        if sched is not None and ckpt.get("scheduler") is not None:
            sched.load_state_dict(ckpt["scheduler"])
        history = list(ckpt["metrics"])
        position = ckpt.get("position")
        start_epoch = ckpt["epoch"] + 1
        ember.set_rng_state(ckpt["rng"]["ember"])
        loader_gen.set_state(ckpt["rng"]["loader"])
        aug_gen.set_state(ckpt["rng"]["augment"])
        where = f"epoch {start_epoch}, batch {position['batch']}" if position else f"epoch {start_epoch}"
        log(f"resumed from {ckpt_path}: continuing at {where}")
    elif os.path.isfile(path):
        log(f"note: {path} from an earlier run will be overwritten (--resume continues it instead)")
    info = {"model": cfg["model"], "dataset": cfg["dataset"], "config": cfg, "normalization": [mu, std]}

    def checkpoint(epoch_done: int, pos: dict | None) -> None:
        ember.save({"epoch": epoch_done, "position": pos, "config": cfg, "normalization": (mu, std),
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict() if sched is not None else None, "metrics": history,
                    "rng": {"ember": ember.get_rng_state(), "loader": loader_gen.get_state(),
                            "augment": aug_gen.get_state()}}, path)  # atomic: temporary file + rename

    # Ctrl-C and SIGTERM ask to stop after the current batch (a second Ctrl-C stops at once), leaving a
    # resumable checkpoint that is never taken in the middle of an optimizer step
    stop = {"requested": False}

    def on_signal(signum, frame):
        if stop["requested"]:
            raise KeyboardInterrupt
        stop["requested"] = True
        sys.stderr.write("\nstopping after this batch with a checkpoint (Ctrl-C again to stop at once)\n")
    old_handlers = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old_handlers[sig] = signal.signal(sig, on_signal)
        except ValueError:  # not the main thread: Ctrl-C raises where it lands
            pass
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: {cfg['model']} ({n_params:,} parameters); optimizer: {cfg['optimizer']} lr={cfg['lr']:g}; "
        f"schedule: {cfg['schedule']}; batch size {cfg['batch_size']}; {cfg['epochs']} epochs; seed {cfg['seed']}"
        + ("; augmentation" if cfg["augment"] else ""))
    epoch, in_epoch, completed = start_epoch, False, 0
    acc: dict = {}
    loader_start = None
    try:
        for epoch in range(start_epoch, cfg["epochs"] + 1):
            if position is not None:  # a mid-epoch checkpoint: replay the epoch's batch order, skip what was done
                loader_gen.set_state(position["loader_start"])
                acc, completed = position["acc"], position["batch"]
                position = None
            else:
                acc, completed = {"loss": 0.0, "errors": 0, "n": 0, "losses": [], "seconds": 0.0}, 0
            in_epoch = True
            loader_start = loader_gen.get_state()
            skip = completed
            model.train()
            t0 = time.time() - acc["seconds"]
            bar = _progress(len(loader), f"epoch {epoch}/{cfg['epochs']}", not args.no_progress)
            if bar is not None and skip:
                bar.update(skip)
            try:
                for batch_i, (xb, yb) in enumerate(loader, 1):
                    if batch_i <= skip:
                        continue
                    if cfg["augment"]:
                        xb = _augment(xb, aug_gen)
                    output = model(xb)
                    losses = F.cross_entropy(output, yb, reduction="none")
                    loss = losses.mean()
                    value = loss.item()
                    if not math.isfinite(value):
                        raise _NonFiniteLoss(f"loss is {value} at epoch {epoch}, batch {batch_i}")
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    if sched is not None and cfg["schedule"] == "onecycle":
                        sched.step()
                    lv = losses.detach()._data
                    acc["loss"] += float(lv.sum())
                    acc["errors"] += int((output.detach()._data.argmax(1) != yb._data).sum())
                    acc["n"] += len(lv)
                    acc["losses"].append(lv.astype(np.float32))
                    completed = batch_i
                    if bar is not None:
                        rate = (acc["n"] - 0) / max(time.time() - t0, 1e-9)
                        bar.set_postfix(loss=f"{acc['loss'] / acc['n']:.4f}", rate=f"{rate:.0f} samples/s",
                                        refresh=False)
                        bar.update(1)
                    elif not args.no_progress and batch_i % max(1, len(loader) // 4) == 0 and batch_i < len(loader):
                        log(f"  epoch {epoch}: {batch_i}/{len(loader)} batches, loss {acc['loss'] / acc['n']:.4f}")
                    if _after_step_hook is not None:
                        _after_step_hook(epoch, batch_i)
                    if stop["requested"]:
                        raise KeyboardInterrupt
            finally:
                if bar is not None:
                    bar.close()
            train_seconds = time.time() - t0
            lr = opt.param_groups[0]["lr"]
            test_loss, test_err, test_losses = _evaluate(model, x_test, y_test, F)
            if sched is not None and cfg["schedule"] != "onecycle":
                sched.step()
            train_losses = np.concatenate(acc["losses"]) if acc["losses"] else np.zeros(0, np.float32)
            history.append({"epoch": epoch, "train_loss": acc["loss"] / max(acc["n"], 1),
                            "train_error": acc["errors"] / max(acc["n"], 1), "test_loss": test_loss,
                            "test_error": test_err, "lr": lr, "seconds": train_seconds,
                            "train_loss_hist": _hist(train_losses), "test_loss_hist": _hist(test_losses)})
            h = history[-1]
            log(f"epoch {epoch}/{cfg['epochs']}  train loss {h['train_loss']:.4f} error {h['train_error']:.2%}  "
                f"test loss {test_loss:.4f} error {test_err:.2%}  lr {lr:.3g}  {train_seconds:.1f}s "
                f"({acc['n'] / max(train_seconds, 1e-9):.0f} samples/s)")
            checkpoint(epoch, None)
            in_epoch = False
            _write_metrics(out, history, info)
            if stop["requested"]:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        if in_epoch:
            acc["seconds"] = time.time() - t0
            checkpoint(epoch - 1, {"batch": completed, "loader_start": loader_start, "acc": acc})
        log(f"\ninterrupted: a resumable checkpoint is in {path}; continue with: ember train --out {out} --resume")
        _finish(out, history, info, args, log)
        return 130
    except _NonFiniteLoss as e:
        good = (f"the last good checkpoint (end of epoch {epoch - 1}) is intact in {path}"
                if os.path.isfile(path) else "no checkpoint was written")
        log(f"error: {e}: training stopped; {good}. Try a smaller --lr (now {cfg['lr']:g}).")
        _finish(out, history, info, args, log)
        return 1
    finally:
        for sig, handler in old_handlers.items():
            signal.signal(sig, handler)
    _finish(out, history, info, args, log)
    final = history[-1] if history else None
    if final is not None:
        log(f"final test accuracy: {1 - final['test_error']:.4f} ({(1 - final['test_error']):.2%}) after "
            f"{final['epoch']} epochs; checkpoint, metrics and plots in {out}")
    return 0


def _finish(out, history, info, args, log) -> None:
    if not history:
        return
    _write_metrics(out, history, info)
    if not args.no_plots:
        try:
            _plot(out, history, log)
        except Exception as e:  # a plotting problem must not lose a training run
            log(f"(could not write plots: {type(e).__name__}: {e})")


def _evaluate(model, x, y, F, batch_size: int = 1000) -> tuple[float, float, np.ndarray]:
    """Mean loss, error rate and the per-sample losses on (x, y), in eval mode, without gradients."""
    model.eval()
    losses, errors = [], 0
    with ember.no_grad():
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            output = model(xb)
            losses.append(F.cross_entropy(output, yb, reduction="none")._data)
            errors += int((output._data.argmax(1) != yb._data).sum())
    losses = np.concatenate(losses) if losses else np.zeros(0, np.float32)
    n = max(len(losses), 1)
    return float(losses.sum()) / n, errors / n, losses


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="ember train", description=__doc__.split("\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
