"""The blocks of a tiled fusion as Dask tasks, on a LocalCluster or a Dask cluster (docs/scale-out.md).

The run is the same as in-process (:func:`~.tiling.run_tiled`): the same blocks, halos and ``predict``, so the
result is the same to the last bit (within float32 rounding for a network that streams its rows in-process,
streamed.py, whose windows a worker computes whole). What changes is where each block is computed:

- the client (QGIS, ``qgis_process`` or ``python -m hyperfuse.batch``) prepares everything a run needs once (the
  model, R, the projection, the block size) and sends ``predict``, the reader and the block plan to every worker
  once, as a worker plugin, not with every block;
- each task reads its own block's window through GDAL, at the same paths as the client (the workers need the
  inputs on a shared file system), computes it and returns the block's centre;
- the client writes the centres into the one output file as they arrive, in any order, through the same writer
  as in-process: its temporary file is renamed only once every block is in, and removed on any failure or cancel.

A worker that dies while computing a block (killed, or out of memory) makes Dask compute that block again on
another worker; when the workers computing one block have died ``distributed.scheduler.allowed-failures`` + 1
times (4 by default), the run stops with :class:`WorkerFailure` and writes nothing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass, field

from ..errors import UserInputError
from ..feedback import Feedback
from .tiling import BlockPlan, PairReader, Predict, Sink, TilingStats, plan_blocks

# DASK_SCHEDULER: empty for in-process; local:N for N worker processes on this machine; else a scheduler's address.
LOCAL_PREFIX = "local:"
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$|^[\w.-]+:\d+$")
# Variables of LocalCluster's worker processes: their BLAS on one thread, as Dask sets it (torch_threads sets
# torch's threads for every block).
WORKER_ENVIRONMENT = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
# How long the client tries to reach a scheduler's address.
CONNECT_TIMEOUT = "20s"
# How often the client looks for a cancel while it waits for blocks.
POLL_SECONDS = 0.25

INSTALL_HINT = (
    "DASK_SCHEDULER needs Dask's distributed scheduler, which is not installed for the Python that runs HyperFuse "
    "(Python {version}). Install it into the environment that holds PyTorch for HyperFuse:\n"
    '  "{pip}" install "dask[distributed]"\n'
    "(in a plain Python: python3 -m pip install \"dask[distributed]\"), then restart QGIS, or leave "
    "DASK_SCHEDULER empty to fuse in this process.")


class WorkerFailure(UserInputError):
    """A block's worker died too often (killed, or out of memory): the run stopped and wrote nothing."""


def parse_scheduler(text: str | None) -> str | None:
    """The DASK_SCHEDULER value checked: None (empty: in-process), 'local:N' or a scheduler's address."""
    text = (text or "").strip()
    if not text:
        return None
    if text.startswith(LOCAL_PREFIX):
        count = text[len(LOCAL_PREFIX):]
        if not count.isdigit() or int(count) < 1:
            raise UserInputError(f"DASK_SCHEDULER '{text}': write local:N with N the number of worker processes "
                                 "to start on this machine, for example local:2.")
        return text
    if not _ADDRESS.match(text):
        raise UserInputError(f"DASK_SCHEDULER '{text}' is neither local:N nor a Dask scheduler's address such as "
                             "tcp://10.0.0.5:8786. Leave it empty to fuse in this process.")
    return text


def checked(scheduler):
    """A run's ``scheduler`` checked before any work: None (in-process), a Client, or a valid DASK_SCHEDULER text
    with dask.distributed importable (and, for an address, a scheduler there with workers)."""
    if scheduler is None or not isinstance(scheduler, str):
        return scheduler
    scheduler = parse_scheduler(scheduler)
    if scheduler is not None:
        require_distributed()
        if not scheduler.startswith(LOCAL_PREFIX):
            # Before any work (training on the inputs takes minutes): a cluster that cannot be reached, or has no
            # workers, is refused now.
            with connected(scheduler):
                pass
    return scheduler


def require_distributed():
    """Import dask.distributed, or raise a :class:`UserInputError` that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        from ..environment import environment_folder

        pip = os.path.join(environment_folder(), "Scripts" if sys.platform == "win32" else "bin", "pip")
        raise UserInputError(INSTALL_HINT.format(version=sys.version.split()[0], pip=pip)) from exc
    return distributed


def _worker_python() -> str | None:
    """The interpreter for LocalCluster's worker processes where sys.executable is not this process's own Python,
    else None. QGIS embeds Python: its sys.executable is then whatever "python3" the PATH finds first (another
    installation, whose interpreter cannot load this one's standard library), or the QGIS program itself."""
    executable = os.path.realpath(sys.executable or "")
    prefixes = {os.path.realpath(prefix) + os.sep for prefix in (sys.exec_prefix, sys.base_exec_prefix)}
    if os.path.basename(executable).lower().startswith("python") and executable.startswith(tuple(prefixes)):
        return None
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for candidate in (os.path.join(sys.base_exec_prefix, "bin", version),
                      os.path.join(sys.base_exec_prefix, "python.exe")):
        if os.path.isfile(candidate):
            return candidate
    return None


@contextlib.contextmanager
def _local_cluster(distributed, workers: int):
    """A LocalCluster of ``workers`` single-threaded worker processes on this machine, closed on leaving."""
    import dask
    import multiprocessing

    python = _worker_python()
    if python:
        multiprocessing.set_executable(python)
    # One task at a time per worker: a block takes every thread torch has (torch_threads). Dask's nannies run in
    # this process and would set their workers' variables (OMP_NUM_THREADS=1 …) in its environment at every worker
    # start, where torch loaded afterwards would take them; the workers get them on their own instead.
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {}}):
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.ERROR,
                                           env=WORKER_ENVIRONMENT)
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


@contextlib.contextmanager
def connected(scheduler, feedback: Feedback | None = None):
    """A dask.distributed Client for ``scheduler``: an existing Client (left open), 'local:N' (a LocalCluster of N
    single-threaded worker processes, closed on leaving) or a scheduler's address."""
    distributed = require_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    scheduler = parse_scheduler(scheduler)
    if scheduler is None:
        raise ValueError("no scheduler: run in-process instead")
    if scheduler.startswith(LOCAL_PREFIX):
        with _local_cluster(distributed, int(scheduler[len(LOCAL_PREFIX):])) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise UserInputError(f"Cannot reach the Dask scheduler at {scheduler}: {exc}. Check that it runs and that "
                             "this machine can reach it, or leave DASK_SCHEDULER empty to fuse in this "
                             "process.") from exc
    with client:
        workers = len(client.scheduler_info()["workers"])
        if not workers:
            raise UserInputError(f"The Dask scheduler at {scheduler} has no workers. Start some (docs/scale-out.md) "
                                 "or leave DASK_SCHEDULER empty to fuse in this process.")
        if feedback is not None:
            feedback.info(f"Dask scheduler {scheduler}: {workers} worker(s).")
        yield client


@dataclass
class BlockCosts:
    """What the cluster's blocks cost, for the log and docs/scale-out.md: seconds computing (in the workers,
    reading included) and bytes of results sent back, summed over the blocks; seconds the client spent writing."""

    blocks: int = 0
    computing: float = 0.0
    result_bytes: int = 0
    writing: float = 0.0
    workers: set = field(default_factory=set)

    def describe(self, wall: float) -> str:
        if not self.blocks:
            return "No block was computed."
        return (f"{self.blocks} block(s) on {len(self.workers)} Dask worker(s) in {wall:.1f} s: "
                f"{self.computing / self.blocks:.2f} s computing and {self.result_bytes / self.blocks / 2 ** 20:.1f} "
                f"MiB of result per block; the client wrote them in {self.writing:.1f} s.")


def program_blas() -> str | None:
    """The library that gives this process's torch its BLAS routines where the program loaded one before Python,
    else None (plain Python, where torch keeps its own MKL; or not Linux).

    QGIS's programs link OpenBLAS. torch's float32 matrix products call ``sgemm_``, which the dynamic linker binds
    to the first definition in the global scope: OpenBLAS's in QGIS, torch's own MKL in plain Python, and the two
    round differently (blocks of a 72² × 40-band DeepSen3 run without the projection differed by up to 3e-7 in a
    plain Python that preloaded OpenBLAS). LocalCluster workers load it as well (:func:`_blas_plugin_class`), so
    that their blocks equal the client's to the bit."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
    program = ctypes.CDLL(None)
    try:
        address = ctypes.cast(program.sgemm_, ctypes.c_void_p)
        dladdr = program.dladdr
    except AttributeError:
        return None
    info = DlInfo()
    if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
        return None
    path = os.path.realpath(info.dli_fname.decode())
    torch = sys.modules.get("torch")
    own = os.path.realpath(os.path.dirname(torch.__file__)) + os.sep if torch is not None else None
    return None if own and path.startswith(own) else path


def _blas_plugin_class():
    """A WorkerPlugin that loads the client's :func:`program_blas` into the global scope of a worker that has not
    imported torch yet, before the run's plugin brings the model (and torch) there."""
    from distributed import WorkerPlugin

    class ClientBlas(WorkerPlugin):
        def __init__(self, path: str):
            self.path = path

        def setup(self, worker):
            import ctypes

            if "torch" not in sys.modules and os.path.isfile(self.path):
                ctypes.CDLL(self.path, mode=os.RTLD_GLOBAL)

    return ClientBlas


def _run_plugin_class():
    """The WorkerPlugin that carries a run's reader, ``predict`` and plan to every worker (imported late: Dask is
    optional)."""
    from distributed import WorkerPlugin

    class RunOnWorkers(WorkerPlugin):
        """Sent once to every worker, and again to a worker that replaces a dead one (the scheduler keeps it), so a
        model is sent once per worker, never with every block, and survives the death of every worker."""

        def __init__(self, name: str, reader: PairReader, predict: Predict, plan: BlockPlan):
            self.name, self.reader, self.predict, self.plan = name, reader, predict, plan

    return RunOnWorkers


def compute_block(run: str, threads: int | None, block: tuple) -> tuple:
    """One task: read ``block``'s window, ``predict`` it, keep its centre, with the reader, ``predict`` and plan of
    the run's plugin. Returns (values, valid, the projection's misfit sums for this block or None, seconds, this
    worker's address). ``threads``: torch's thread count in the client, which the block is computed with (see
    :func:`torch_threads`)."""
    from distributed import get_worker

    started = time.perf_counter()
    worker = get_worker()
    shared = worker.plugins[run]
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    inputs = shared.reader.read(*shared.plan.window(block))
    sums = None
    if hasattr(shared.predict, "tallied"):
        # The projection's consistency, counted per block and summed by the client (each worker has its own copy
        # of ``predict``).
        from .adaptation import ConsistencyTally

        tally = ConsistencyTally()
        fused = shared.plan.predict(shared.predict.tallied(tally), block, inputs)
        sums = tally.sums
    else:
        fused = shared.plan.predict(shared.predict, block, inputs)
    values, valid = shared.plan.centre(block, fused, inputs[1], inputs[3])
    return values, valid, sums, time.perf_counter() - started, worker.address


def torch_threads() -> int | None:
    """torch's thread count in this process, or None where torch is not loaded. oneDNN's 1 × 1 convolutions split
    their sums differently with another count (results then differ by about 1e-7 of the values), so the workers
    compute every block with the client's count and give the in-process result to the bit."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def _in_flight(client) -> int:
    """Blocks submitted ahead: two per worker thread, so that none waits while the client writes."""
    threads = sum(worker.get("nthreads", 1) for worker in client.scheduler_info()["workers"].values())
    return max(2, 2 * threads)


def _killed_worker_error():
    from distributed.scheduler import KilledWorker

    return KilledWorker


def run_tiled_on_dask(reader: PairReader, predict: Predict, sink: Sink, receptive_field: int, block_size: int,
                      feedback: Feedback, alignment: int | None = None, stats: TilingStats | None = None, *,
                      scheduler) -> int:
    """:func:`~.tiling.run_tiled` with the blocks computed as Dask tasks on ``scheduler`` (see
    :func:`connected`); ``sink`` runs here, in the client, for every block. Returns the number of blocks."""
    stats = stats or TilingStats()
    plan = plan_blocks(reader, receptive_field, block_size, alignment, feedback, stats)
    blocks, costs, started = plan.blocks, BlockCosts(), time.perf_counter()
    stats.cluster = costs
    with connected(scheduler, feedback) as client:
        distributed = require_distributed()
        run, threads = f"hyperfuse-{uuid.uuid4().hex[:8]}", torch_threads()
        blas = program_blas()
        if blas:
            client.register_plugin(_blas_plugin_class()(blas), name=f"{run}-blas")
        client.register_plugin(_run_plugin_class()(run, reader, predict, plan), name=run)
        pending, submitted = {}, 0

        def submit_next():
            nonlocal submitted
            block = blocks[submitted]
            future = client.submit(compute_block, run, threads, block, key=f"{run}-block-{block[0]}-{block[1]}")
            pending[future], submitted = block, submitted + 1
        try:
            while submitted < min(len(blocks), _in_flight(client)):
                submit_next()
            while pending:
                feedback.check_cancelled()
                try:
                    done, _ = distributed.wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue            # none finished yet: look for a cancel again
                for future in done:
                    block = pending.pop(future)
                    _write(future, block, sink, predict, costs, stats)
                    if submitted < len(blocks):
                        submit_next()
                    feedback.progress(costs.blocks / len(blocks))
        finally:
            # Cleaning up must not hide why the run stopped (a lost connection would fail here too).
            with contextlib.suppress(Exception):
                client.cancel(list(pending), force=True)
            with contextlib.suppress(Exception):
                client.unregister_worker_plugin(run)
    if costs.blocks != len(blocks):
        raise RuntimeError(f"{costs.blocks} of {len(blocks)} blocks came back from the cluster")
    feedback.info(costs.describe(time.perf_counter() - started))
    return len(blocks)


def _write(future, block: tuple, sink: Sink, predict, costs: BlockCosts, stats: TilingStats) -> None:
    """Write one finished block; a block whose workers kept dying stops the run with :class:`WorkerFailure`."""
    try:
        values, valid, sums, seconds, worker = future.result()
    except _killed_worker_error() as exc:
        row0, col0, rows, cols = block
        raise WorkerFailure(
            f"The Dask workers computing the block at HR rows {row0}–{row0 + rows - 1}, columns {col0}–"
            f"{col0 + cols - 1} died each time they tried it ({exc}). The run stopped and nothing was written. "
            "A worker dies when it is killed or runs out of memory: give the workers more memory, or set a "
            "smaller BLOCK_SIZE.") from exc
    if sums is not None:
        predict.tally.merge(sums)
    writing = time.perf_counter()
    sink(values, valid, block[0], block[1])
    seconds_writing = time.perf_counter() - writing
    stats.writing += seconds_writing
    costs.blocks += 1
    costs.computing += seconds
    costs.result_bytes += values.nbytes + valid.nbytes
    costs.writing += seconds_writing
    costs.workers.add(worker)
