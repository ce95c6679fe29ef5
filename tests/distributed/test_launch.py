"""``ember run --nproc-per-node N``: torchrun's environment, an unmodified torchrun-style DDP program,
and faults: a failing or killed rank ends the whole job with a non-zero exit, never a hang."""
import os
import subprocess
import sys
import time

import pytest

from mpi_helpers import _env, _shm_segments, remove_orphaned_shm, requires_mpi, run_ranks, write

ENV = r'''
import os, json
keys = ["RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS"]
import torch, sys
with open(os.path.join(os.path.dirname(__file__), "env%s.json" % os.environ["RANK"]), "w") as f:
    json.dump({k: os.environ.get(k) for k in keys} | {"torch": torch.__name__, "argv": sys.argv[1:]}, f)
'''


@requires_mpi
def test_launcher_sets_torchruns_environment(tmp_path):
    import json
    env = _env()
    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(v)
    p = subprocess.run([sys.executable, "-m", "ember", "run", "--nproc_per_node=3", write(tmp_path, ENV), "a", "-b"],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    rows = [json.loads((tmp_path / f"env{k}.json").read_text()) for k in range(3)]
    cores = len(os.sched_getaffinity(0))
    for k, d in enumerate(rows):
        assert d["RANK"] == d["LOCAL_RANK"] == str(k)
        assert d["WORLD_SIZE"] == d["LOCAL_WORLD_SIZE"] == "3"
        assert d["MASTER_ADDR"] and d["MASTER_PORT"]
        assert d["OMP_NUM_THREADS"] == d["OPENBLAS_NUM_THREADS"] == str(max(1, cores // 3))
        assert d["torch"] == "ember" and d["argv"] == ["a", "-b"]
    env["OMP_NUM_THREADS"] = "2"   # the user's setting wins
    p = subprocess.run([sys.executable, "-m", "ember", "run", "--nproc-per-node", "2", write(tmp_path, ENV)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    assert all(json.loads((tmp_path / f"env{k}.json").read_text())["OPENBLAS_NUM_THREADS"] == "2" for k in range(2))


# The shape of PyTorch's DDP tutorial program for torchrun, unmodified.
TORCHRUN_PROGRAM = r'''
import os
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.distributed.elastic.multiprocessing.errors import record


class ToyModel(nn.Module):
    def __init__(self):
        super(ToyModel, self).__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


@record
def demo_basic():
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank()
    print(f"Start running basic DDP example on rank {rank}.")
    device_id = rank % max(torch.cuda.device_count(), 1)
    local_rank = int(os.environ["LOCAL_RANK"])
    model = ToyModel()
    ddp_model = DDP(model)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.001)
    optimizer.zero_grad()
    outputs = ddp_model(torch.randn(20, 10))
    labels = torch.randn(20, 5)
    loss_fn(outputs, labels).backward()
    optimizer.step()
    w = ddp_model.module.net1.weight.detach().clone()
    ws = [torch.zeros_like(w) for _ in range(dist.get_world_size())]
    dist.all_gather(ws, w)
    assert all(torch.equal(ws[0], x) for x in ws), "replicas diverged"
    if rank == 0:
        torch.save(ddp_model.state_dict(), os.environ["CKPT"])
    dist.barrier()
    dist.destroy_process_group()
    print(f"Finished running basic DDP example on rank {rank}.")


if __name__ == "__main__":
    demo_basic()
'''


@requires_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_unmodified_torchrun_program(tmp_path, n):
    env = _env()
    env["CKPT"] = str(tmp_path / "ckpt.pt")
    p = subprocess.run([sys.executable, "-m", "ember", "run", "--nproc-per-node", str(n),
                        write(tmp_path, TORCHRUN_PROGRAM)], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("Finished running basic DDP example") == n
    import ember
    assert list(ember.load(env["CKPT"])) == ["module.net1.weight", "module.net1.bias", "module.net2.weight",
                                            "module.net2.bias"]


FAULT = r'''
import datetime, os, sys, time
import torch
import torch.distributed as dist
mode = sys.argv[1]
dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=3 if mode == "hang" else 60))
t = torch.ones(3)
dist.all_reduce(t)
if dist.get_rank() == 1:
    if mode == "raise":
        raise RuntimeError("boom in rank 1")
    if mode == "kill":
        os.kill(os.getpid(), 9)
    if mode == "exit":
        sys.exit(3)
    if mode == "hang":
        time.sleep(60)
dist.all_reduce(t)
time.sleep(0.5)
print("finished", dist.get_rank())
'''


@requires_mpi
@pytest.mark.parametrize("mode", ["raise", "kill", "exit", "hang"])
def test_a_failing_rank_ends_the_job(tmp_path, mode):
    start = time.perf_counter()
    before = _shm_segments()
    p = run_ranks(3, write(tmp_path, FAULT), mode, launcher=True, check=False, timeout=90)
    assert p.returncode != 0
    assert _shm_segments() <= before  # the aborted job's MPICH segments were removed from /dev/shm
    assert time.perf_counter() - start < 60  # (a loaded machine starts ranks slowly)
    assert "finished 1" not in p.stdout
    if mode == "raise":
        assert "RuntimeError: boom in rank 1" in p.stderr
    if mode == "exit":
        assert "[rank 1] exited with code 3" in p.stderr
    if mode == "hang":
        assert "all_reduce timed out after 3 s" in p.stderr


PLAIN = r'''
import os, sys
import ember as torch
import ember.distributed as dist
if sys.argv[1] == "before" and os.environ["RANK"] == "0":
    raise ValueError("rank 0 fails")
dist.init_process_group()
if dist.get_rank() == 0:
    raise ValueError("rank 0 fails")
dist.barrier()
'''


@requires_mpi
@pytest.mark.parametrize("when", ["before", "after"])
def test_plain_mpiexec_exception_aborts_the_job(tmp_path, when):
    """Under plain mpiexec too, before or after init_process_group."""
    start = time.perf_counter()
    p = run_ranks(2, write(tmp_path, PLAIN), when, check=False, timeout=90)
    assert p.returncode != 0 and "ValueError: rank 0 fails" in p.stderr
    assert time.perf_counter() - start < 60  # (a loaded machine starts ranks slowly)


def test_launcher_usage_errors(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "ember", "run", *args], capture_output=True, text=True,
                              timeout=120, env=_env())
    p = run("--nproc-per-node", "zero", "x.py")
    assert p.returncode == 2 and "positive integer" in p.stderr
    p = run("--nproc-per-node", "2")
    assert p.returncode == 2 and "no script" in p.stderr
    p = run("--nproc-per-node", "2", "--bogus", "x.py")
    assert p.returncode == 2 and "unknown option '--bogus'" in p.stderr


@requires_mpi
def test_world_size_mismatch_is_explained(tmp_path):
    env = _env()
    env["WORLD_SIZE"] = "4"
    p = subprocess.run([sys.executable, write(tmp_path, "import ember.distributed as d\nd.init_process_group()\n")],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode != 0 and "mpiexec -n 4" in p.stderr


HOSTS = r'''
import os
import torch
import torch.distributed as dist
dist.init_process_group("gloo")
t = torch.ones(1)
dist.all_reduce(t)
keys = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK")
rows = []
dist.all_gather_object(rows, [int(os.environ[k]) for k in keys] + [int(t)])
if dist.get_rank() == 0:
    for row in rows:
        print("ROW", *row, flush=True)
'''


@requires_mpi
def test_torchrun_options_and_a_host_file(tmp_path):
    """Two "machines" from MPI's host file (both this one, under two names), 2 ranks each."""
    (tmp_path / "hosts").write_text("localhost\n127.0.0.1\n")
    script = write(tmp_path, HOSTS)
    p = subprocess.run([sys.executable, "-m", "ember", "run", "--nnodes=2", "--nproc_per_node", "2", "--hostfile",
                        str(tmp_path / "hosts"), script], capture_output=True, text=True, timeout=120, env=_env())
    assert p.returncode == 0, p.stderr
    rows = sorted(tuple(map(int, line.split()[1:])) for line in p.stdout.splitlines() if line.startswith("ROW"))
    assert rows == [(0, 0, 4, 2, 0, 4), (1, 1, 4, 2, 0, 4), (2, 0, 4, 2, 1, 4), (3, 1, 4, 2, 1, 4)]
    p = subprocess.run([sys.executable, "-m", "ember", "run", "--standalone", "--nproc-per-node=2", script],
                       capture_output=True, text=True, timeout=120, env=_env())
    assert p.returncode == 0 and p.stdout.count("ROW") == 2, p.stderr


SLEEPY = r'''
import time
import torch.distributed as dist
dist.init_process_group()
print("ready", flush=True)
time.sleep(60)
'''


def _alive(pattern: str) -> int:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return len(out.split())


@requires_mpi
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL", "SIGINT"])
def test_killing_the_launcher_ends_the_ranks(tmp_path, sig):
    import signal
    script = write(tmp_path, SLEEPY, f"sleepy_{sig}_{os.getpid()}.py")
    before = _shm_segments()
    p = subprocess.Popen([sys.executable, "-m", "ember", "run", "--nproc-per-node", "2", script],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(),
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        seen = ""
        while seen.count("ready") < 2:  # the ranks' lines may interleave
            line = p.stdout.readline()
            assert line, seen
            seen += line
        p.send_signal(getattr(signal, sig))
        p.wait(timeout=30)
        deadline = time.time() + 15
        while _alive(os.path.basename(script)) and time.time() < deadline:
            time.sleep(0.2)
        assert _alive(os.path.basename(script)) == 0
        assert p.returncode != 0
        if sig != "SIGKILL":  # a killed launcher cannot clean up; otherwise it removed the job's segments
            assert _shm_segments() <= before
    finally:
        if p.poll() is None:
            p.kill()
        remove_orphaned_shm(before)


GRACEFUL = r'''
import sys
import time
import torch.distributed as dist
dist.init_process_group()
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    time.sleep(0.5)           # e.g. writing a checkpoint: no rank is killed meanwhile
    sys.stdout.write(f"clean exit {dist.get_rank()}\n")   # one write: the ranks' lines may interleave
'''


@requires_mpi
def test_ctrl_c_reaches_every_rank_once(tmp_path):
    """A terminal's Ctrl-C (SIGINT to the launcher's process group) gives every rank a KeyboardInterrupt."""
    import signal
    p = subprocess.Popen([sys.executable, "-m", "ember", "run", "--nproc-per-node", "2", write(tmp_path, GRACEFUL)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(),
                         start_new_session=True)
    try:
        seen = ""
        while seen.count("ready") < 2:
            line = p.stdout.readline()
            assert line, seen
            seen += line
        os.killpg(p.pid, signal.SIGINT)
        out, _ = p.communicate(timeout=60)
        assert "clean exit 0" in out and "clean exit 1" in out, out
    finally:
        if p.poll() is None:
            p.kill()
