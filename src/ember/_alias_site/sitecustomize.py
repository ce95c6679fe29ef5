"""Installed on PYTHONPATH by ``ember run`` so child processes serve ``import torch`` from ember."""
import os

if os.environ.get("EMBER_TORCH_ALIAS") == "1":
    try:
        from ember._alias import install_torch_alias
        install_torch_alias()
    except Exception as exc:  # pragma: no cover - never break interpreter start-up
        import sys
        print(f"ember: could not install the torch alias in a child process: {exc}", file=sys.stderr)
