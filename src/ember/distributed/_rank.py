"""One rank of ``ember run --nproc-per-node N``: torchrun's environment, then the script under the
torch alias; a failing rank aborts the whole MPI job (otherwise the others would wait forever)."""
from __future__ import annotations

import os
import sys


def _torchrun_env() -> None:
    env = os.environ
    for rank, size, lrank, lsize in (("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
                                      ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
                                       "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE")):
        if rank in env:
            r, n = int(env[rank]), int(env[size])
            lr, ln = int(env.get(lrank, r)), int(env.get(lsize, n))
            break
    else:
        r, n, lr, ln = 0, 1, 0, 1
    env.update(RANK=str(r), WORLD_SIZE=str(n), LOCAL_RANK=str(lr), LOCAL_WORLD_SIZE=str(ln),
               GROUP_RANK=str(r // max(ln, 1)), ROLE_RANK=str(r), ROLE_WORLD_SIZE=str(n),
               ROLE_NAME="default", GROUP_WORLD_SIZE=str(max(n // max(ln, 1), 1)),
               TORCHELASTIC_RESTART_COUNT="0", TORCHELASTIC_MAX_RESTARTS="0")


def main(argv: list[str]) -> int:
    _torchrun_env()
    os.environ["EMBER_RANK_RUNNER"] = "1"
    multi = int(os.environ["WORLD_SIZE"]) > 1
    if multi:
        # Initialise MPI before the script: a rank that fails even before init_process_group can then
        # abort the job instead of leaving the others blocked in MPI_Init.
        from . import _mpi
        _mpi()
    if argv[0] == "--ember-command":  # e.g. `ember train --nproc-per-node N ...`: an ember command per rank
        from ..cli import main as cli_main
        try:
            code = cli_main(argv[1:])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:  # noqa: BLE001 - the traceback, then the whole job ends
            import traceback
            traceback.print_exc()
            code = 1
    else:
        from .._run import run_script
        code = run_script(argv[0], argv[1:])
    # 130: interrupted (Ctrl-C reaches every rank through mpiexec): the ranks end by themselves; an
    # abort here could kill a rank still writing its checkpoint
    if code not in (0, 130) and multi:
        me = os.environ["RANK"]
        print(f"[rank {me}] exited with code {code}: ending the job", file=sys.stderr)
        from . import abort
        abort(code)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
