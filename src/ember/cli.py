"""The ``ember`` command: ``ember train ...`` (also ``python -m ember train ...``)."""
from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__, train
    parser = argparse.ArgumentParser(prog="ember", description="ember: PyTorch's API on NumPy.")
    parser.add_argument("--version", action="version", version=f"ember {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("train", help="train a network on (Fashion-)MNIST with progress bars, checkpoints and plots",
                       description=train.__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_arguments(p)
    sub.add_parser("run", help="run an unmodified PyTorch program on ember: ember run SCRIPT [ARGS...]",
                   add_help=False)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "run":  # `ember run SCRIPT [ARGS...]`: everything after `run` belongs to the script
        from ._run import main as run_main
        return run_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "train":
        from . import train
        try:
            return train.run(args)
        except (FileNotFoundError, ValueError, RuntimeError) as e:
            print(f"ember train: error: {e}", file=sys.stderr)
            return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
