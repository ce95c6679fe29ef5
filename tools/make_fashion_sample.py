#!/usr/bin/env python3
"""Regenerate ember's shipped Fashion-MNIST sample (src/ember/vision/datasets/_sample/).

The sample is drawn from the official Fashion-MNIST IDX files as Debian's
``dataset-fashion-mnist`` package installs them (/usr/share/datasets/fashion-mnist):

* train: the first TRAIN_PER_CLASS images of each class, in the official file order;
* test:  the first TEST_PER_CLASS images of each class of the official t10k file.

The chosen images keep their official relative order (ascending source index), so the classes
stay interleaved as in the original files. Nothing random is involved: the selection is a pure
function of the official files, and the arrays are regenerated exactly. Written gzip streams
carry no name and a zero timestamp, so with the same zlib the .gz files are byte-identical too.

Usage:
    python tools/make_fashion_sample.py                 # rewrite the sample
    python tools/make_fashion_sample.py --check         # verify the shipped sample, write nothing
    python tools/make_fashion_sample.py --find-max      # largest balanced train size under budget

Only the standard library and NumPy are needed; ember itself is not imported (the IDX
reader/writer module is loaded straight from its file).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(REPO, "src", "ember", "vision", "datasets")
DEFAULT_OUT = os.path.join(DATASETS, "_sample")
DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"

TRAIN_PER_CLASS = 580
TEST_PER_CLASS = 100
NUM_CLASSES = 10
BUDGET_BYTES = 3_000_000  # the whole _sample directory, README and licence included

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# SHA-256 of the official files as shipped by Debian's dataset-fashion-mnist (and upstream).
SOURCE_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}


def _load_idx_module():
    spec = importlib.util.spec_from_file_location("_ember_idx", os.path.join(DATASETS, "_idx.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


idx = _load_idx_module()


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` items of each class, in ascending (file) order."""
    chosen = []
    for c in range(NUM_CLASSES):
        where = np.flatnonzero(labels == c)
        if len(where) < per_class:
            raise SystemExit(f"class {c} has only {len(where)} items, {per_class} wanted")
        chosen.append(where[:per_class])
    return np.sort(np.concatenate(chosen)).astype(np.int32)


def load_official(source: str) -> dict[str, np.ndarray]:
    for name, want in SOURCE_SHA256.items():
        got = sha256(os.path.join(source, name))
        if got != want:
            print(f"warning: {name} has SHA-256 {got}, not the official {want}; the sample "
                  "will differ from the shipped one", file=sys.stderr)
    out = {}
    for split in ("train", "t10k"):
        images = idx.read_idx(os.path.join(source, f"{split}-images-idx3-ubyte.gz"))
        labels = idx.read_idx(os.path.join(source, f"{split}-labels-idx1-ubyte.gz"))
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
            raise SystemExit(f"{split} images: unexpected {images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.shape != images.shape[:1] or labels.max() >= NUM_CLASSES:
            raise SystemExit(f"{split} labels: unexpected {labels.dtype} {labels.shape}")
        out[f"{split}-images"], out[f"{split}-labels"] = images, labels
    return out


def build(official: dict[str, np.ndarray], train_per_class: int, test_per_class: int):
    """name -> array for every IDX file of the sample."""
    files = {}
    for split, k in (("train", train_per_class), ("t10k", test_per_class)):
        sel = first_per_class(official[f"{split}-labels"], k)
        files[f"{split}-images-idx3-ubyte.gz"] = official[f"{split}-images"][sel]
        files[f"{split}-labels-idx1-ubyte.gz"] = official[f"{split}-labels"][sel]
        files[f"{split}-source-indices-idx1-int.gz"] = sel
    return files


LICENSE_TEXT = """\
The MIT License (MIT)

Copyright (c) 2017 Zalando SE

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.

----------------------------------------------------------------------------
The files in this directory are a subset of Fashion-MNIST
(https://github.com/zalandoresearch/fashion-mnist), redistributed under the
licence above. Images and labels are unmodified: the {n_train} training images
are the first {train_k} of each of the 10 classes in the official
train-images-idx3-ubyte file, and the {n_test} test images the first {test_k}
of each class in the official t10k-images-idx3-ubyte file, kept in their
official order (no randomness; see README.md and tools/make_fashion_sample.py
in ember's source repository).
"""


README_TEXT = """\
# Fashion-MNIST sample shipped with ember

A small, class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Copyright (c) 2017 Zalando SE, MIT licence -- see `LICENSE.txt`), so that ember's
examples and course network train out of the box on a machine without the full data set
(on Debian: `apt-get install dataset-fashion-mnist`, which installs it in
`/usr/share/datasets/fashion-mnist`).

| file | contents | IDX type | shape | bytes |
| --- | --- | --- | --- | --- |
{table}

Total: {total} bytes for the whole directory, this README and the licence included
(the budget is {budget} bytes).

## How it was drawn

* **train**: the first {train_k} images of each of the 10 classes, in the order of the
  official `train-images-idx3-ubyte.gz` -- {n_train} images;
* **test**: the first {test_k} images of each class of the official
  `t10k-images-idx3-ubyte.gz` -- {n_test} images.

The official files are already in a random order, so "first of each class" is an unbiased,
deterministic sample: no random seed is involved. The selected images keep their official
relative order (ascending source index), so the classes stay interleaved as in the original.
Pixels and labels are exactly the official bytes, unchanged.

`*-source-indices-idx1-int.gz` records, for every sample item, its index (0-based) in the
official file: `sample_images[i] == official_images[source_indices[i]]`.

Classes (label: name): {classes}.

The files use the official IDX format and names; read them with
`ember.vision.datasets._idx.read_idx`. The .gz files carry no file name and a zero timestamp.

## Regenerating

    python tools/make_fashion_sample.py            # from /usr/share/datasets/fashion-mnist
    python tools/make_fashion_sample.py --check    # verify this directory against the official files

The arrays are regenerated exactly; with the same zlib the .gz files are byte-identical.
Official source files used (SHA-256):

{sources}
"""


def _describe(name: str, arr: np.ndarray) -> str:
    split = "train" if name.startswith("train") else "test"
    kind = name.split("-")[1]
    what = {"images": f"{split} images, 28x28 grey levels 0-255",
            "labels": f"{split} labels 0-9",
            "source": f"{split} index of each item in the official file"}[kind]
    return f"`{name}` | {what} | {arr.dtype.name} | {tuple(arr.shape)}"


def write_sample(files, out: str, source: str, train_k: int, test_k: int) -> int:
    os.makedirs(out, exist_ok=True)
    for name, arr in files.items():
        idx.write_idx(os.path.join(out, name), arr)
    n_train = len(files["train-labels-idx1-ubyte.gz"])
    n_test = len(files["t10k-labels-idx1-ubyte.gz"])
    fmt = dict(n_train=n_train, n_test=n_test, train_k=train_k, test_k=test_k)
    _write_text(os.path.join(out, "LICENSE.txt"), LICENSE_TEXT.format(**fmt))

    sizes = {name: os.path.getsize(os.path.join(out, name)) for name in files}
    table = "\n".join(f"| {_describe(name, arr)} | {sizes[name]} |" for name, arr in files.items())
    sources = "\n".join(f"    {sha256(os.path.join(source, n))}  {n}" for n in SOURCE_SHA256)
    classes = ", ".join(f"{i}: {c}" for i, c in enumerate(CLASSES))
    rest = sum(sizes.values()) + os.path.getsize(os.path.join(out, "LICENSE.txt"))
    # The README states the directory total, which includes the README itself: iterate to a fixpoint.
    total = rest
    for _ in range(5):
        text = README_TEXT.format(table=table, total=total, budget=BUDGET_BYTES, classes=classes,
                                  sources=sources, **fmt)
        new_total = rest + len(text.encode())
        if new_total == total:
            break
        total = new_total
    _write_text(os.path.join(out, "README.md"), text)
    return dir_size(out)


def _write_text(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, n)) for n in os.listdir(path)
               if os.path.isfile(os.path.join(path, n)))


def check(files, out: str) -> bool:
    ok = True
    for name, arr in files.items():
        got = idx.read_idx(os.path.join(out, name))
        same = got.dtype == arr.dtype and got.shape == arr.shape and np.array_equal(got, arr)
        print(f"{'OK  ' if same else 'DIFF'} {name} {got.dtype} {got.shape}")
        ok &= same
    size = dir_size(out)
    flag = "OK  " if size <= BUDGET_BYTES else "OVER"
    print(f"{flag} directory total {size} bytes (budget {BUDGET_BYTES})")
    return ok and size <= BUDGET_BYTES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE, help="directory of the official files")
    ap.add_argument("--out", default=DEFAULT_OUT, help="sample directory to write")
    ap.add_argument("--train-per-class", type=int, default=TRAIN_PER_CLASS)
    ap.add_argument("--test-per-class", type=int, default=TEST_PER_CLASS)
    ap.add_argument("--check", action="store_true", help="compare --out with what would be written")
    ap.add_argument("--find-max", action="store_true",
                    help="print the largest train-per-class (multiple of 10) that fits the budget")
    args = ap.parse_args(argv)

    if not os.path.isdir(args.source):
        print(f"{args.source} not found: apt-get install dataset-fashion-mnist", file=sys.stderr)
        return 2
    official = load_official(args.source)

    if args.find_max:
        # Directory size grows with k: binary search over multiples of 10 per class.
        lo, hi, sizes = 0, 600, {}
        with tempfile.TemporaryDirectory() as tmp:
            while lo < hi:
                mid = (lo + hi + 1) // 2
                k = 10 * mid
                sizes[k] = write_sample(build(official, k, args.test_per_class), tmp, args.source,
                                        k, args.test_per_class)
                print(f"  train-per-class {k}: {sizes[k]} bytes", file=sys.stderr)
                lo, hi = (mid, hi) if sizes[k] <= BUDGET_BYTES else (lo, mid - 1)
        print(f"largest fitting train-per-class: {10 * lo} ({sizes.get(10 * lo)} bytes)" if lo
              else "nothing fits")
        return 0

    files = build(official, args.train_per_class, args.test_per_class)
    if args.check:
        return 0 if check(files, args.out) else 1
    size = write_sample(files, args.out, args.source, args.train_per_class, args.test_per_class)
    for n in sorted(os.listdir(args.out)):
        print(f"{os.path.getsize(os.path.join(args.out, n)):>10}  {n}")
    print(f"{size:>10}  total (budget {BUDGET_BYTES})")
    if size > BUDGET_BYTES:
        print("over budget: lower --train-per-class", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
