"""Scoring runs: start, execute (as chunks on any worker), cancel, and recover from crashes.

The lifecycle lives on the ``ScoringRun`` row and every transition is a conditional UPDATE,
so two workers, a redelivered message or a user's cancel can race without harm:

- ``scoring_run_start``: a queued run; its start message is published after the commit.
- ``scoring_run_execute``: claims queued → running, snapshots the inputs (sites, grid, zones)
  into ``RunInput`` and fans out one ``RunChunk`` per cluster size and block of Monte Carlo
  draws (a size without draws is one chunk with an empty block). The block is
  ``DRAWS_PER_BLOCK`` when set, else chosen from the worker processes consuming the chunks'
  queue (:func:`chunk_block_draws`), so that every one of them gets several chunks.
- ``scoring_chunk_execute``: claims pending → running, computes its block from the snapshot
  and stores its mergeable statistics (``siting.scoring.sketch``) on the chunk. The last block
  of a size to finish scores the size deterministically and merges the size's blocks into its
  ``RunResult`` in the transaction that marks it done; the chunk that completes the set marks
  the run succeeded. A run is never
  succeeded with a size or a block missing, and the merge never counts a block twice.
- ``scoring_runs_sweep``: periodic; gives back chunks whose worker stopped beating (a crash),
  fails them after ``MAX_ATTEMPTS``, and re-publishes runs the broker never received.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from grid.models import DatasetLoad
from siting import frames, queue
from siting.models import RunChunk, RunInput, RunResult, Scenario, ScoringRun, Site
from siting.runs import selectors
from siting.scoring import score_draws, score_inputs, sketch
from siting.scoring.params import ScenarioParams

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 5.0
"""How often a busy worker proves it is alive. [s]"""
STALE_AFTER_S = float(getattr(settings, "GIGASITE_STALE_AFTER_S", 60.0))
"""A running chunk whose heartbeat is older than this is taken as lost (worker crashed). [s]"""
MAX_ATTEMPTS = 3
"""Tries per chunk before the run is failed with the reason."""
REDISPATCH_AFTER_S = 10.0
"""A queued run whose start message never reached the broker is re-published after this. [s]"""
DB_RETRY_S = float(getattr(settings, "GIGASITE_DB_RETRY_S", 300.0))
"""How long a chunk keeps retrying a database that is down or locked before its run fails. [s]"""
DB_RETRY_FIRST_S = 0.5
"""First wait between retries; it doubles each time, up to ``DB_RETRY_MAX_WAIT_S``. [s]"""
DB_RETRY_MAX_WAIT_S = 15.0
PROGRESS_INTERVAL_S = float(getattr(settings, "GIGASITE_PROGRESS_INTERVAL_S", 1.0))
"""How often a chunk reports its progress and checks that its run was not cancelled
(``GIGASITE_PROGRESS_INTERVAL_S``, default 1). [s]
A chunk shorter than this reports nothing before it is done (storing it checks the run under
its lock): a 1,000-draw run's chunks take 0.1–0.3 s here, and reporting every 20 draws made
392 reports of 4 queries each, 0.56 s of the run's 10.4 s of chunk time on one worker
(measured here 2026-11-28). The run's progress still moves with every chunk done."""
SNAPSHOT_IDLE_S = 60.0
"""How long a worker process keeps a run's unpacked snapshot after it last used it, when the run
may still have chunks for it (see ``_SnapshotCache``): long enough for the next chunk of a busy
run, short enough that a worker left idle by a cancelled run, or by chunks other machines took,
gives the memory back within one to two of these (the timer looks again one delay later when
the snapshot was used since it was set). [s] Assumption, not measured."""
DRAWS_PER_BLOCK: int | None = getattr(settings, "GIGASITE_DRAWS_PER_BLOCK", None)
"""Monte Carlo draws per chunk set by the operator (``GIGASITE_DRAWS_PER_BLOCK``), used as is;
None: each run chooses its block (:func:`chunk_block_draws`). Results never depend on it."""
MAX_DRAWS_PER_BLOCK = 125
"""The largest block, and the block when the worker count is unknown (inline runs, no worker
answered): the fixed layout it replaces, so 1 or 2 workers see no change. 1,000 draws × 7
sizes make 56 chunks of about 0.28 s each on the shipped data (measured here, 2026-11-28: 15.1–15.8 s
for the run on one one-thread worker), enough for 14 workers at 4 chunks each."""
CHUNKS_PER_WORKER = 4
"""Fewest chunks per worker process the chosen block aims at. Workers take a chunk each as
they free up, so a run ends with a tail in which some have nothing left: about one chunk's
time at most, ≤ 1/4 of a worker's share of the run at 4 chunks each, and a slow machine holds
back only its last small chunk. Assumption, checked here (2026-11-28) by list-scheduling the
chunk times measured on one worker (below) over 8–1,000 workers: on the shipped data any
value from 1 to 4 changes a 1,000-draw run's time by ≤ 3 %, because its tail is each size's
final merge (up to 1.1 s for 1,000 H100e, in whichever block of the size ends last), not the
blocks; it matters for runs whose draws, not merges, dominate."""
MIN_DRAWS_PER_BLOCK = 60
"""The smallest block chosen (the operator may set smaller). Measured here (2026-11-28, the
shipped 19,009 sites × 7 sizes, 1,000 draws on one one-thread worker through Redis, blocks of
125, 84, 60, 44 and 25): a chunk's fixed cost end to end (message, claim, reading and
unpacking the snapshot, preparing the size, progress, storing the partial) is 41–48 ms by
size, 45–56 ms per extra chunk of the whole run (17 ms of it unpacking the snapshot, 10 ms
preparing the size), against 0.7–1.7 ms per draw of one size: at 60 draws it is a third to a
half of a chunk. Smaller blocks add that to every worker's work for no shorter tail (blocks
of 25, 44 and 60 on 1,000 workers: within 0.02 s of each other, by the same scheduling).
Measured before a worker process kept the snapshot unpacked between chunks (``_SnapshotCache``)
and reported progress every second: the fixed cost is now lower, so the bound errs on the safe
side."""

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database stayed down or locked for the whole retry budget."""


def db_transient(exc: BaseException) -> bool:
    """Return whether ``exc`` is a database blip worth retrying (lost connection, lock, restart).

    Django raises ``OperationalError`` for SQLite's "database is locked" and for a PostgreSQL
    server that went away, and ``InterfaceError`` for a connection already closed under it.
    Integrity and programming errors are not transient: retrying cannot help.
    """
    return isinstance(exc, (OperationalError, InterfaceError))


def _drop_broken_connection() -> None:
    # A connection that lost its server stays broken: close it, and the next query opens a
    # fresh one. Never inside a transaction (the caller's atomic block owns that connection).
    if not connection.in_atomic_block:
        try:
            connection.close()
        except DatabaseError:
            pass


def with_db_retry(fn: Callable[[], T], *, what: str, budget_s: float | None = None) -> T:
    """Return ``fn()``, retrying transient database errors with exponential back-off.

    Waits 0.5 s, 1 s, 2 s … (at most ``DB_RETRY_MAX_WAIT_S``) between tries, for
    ``DB_RETRY_S`` in all; ``fn`` must be safe to run again (a query, or one atomic block).
    Raises :class:`DatabaseUnavailable` (from the last error) when the budget is spent.
    """
    budget = DB_RETRY_S if budget_s is None else budget_s
    deadline = time.monotonic() + budget
    wait = DB_RETRY_FIRST_S
    tries = 0
    while True:
        tries += 1
        try:
            return fn()
        except Exception as exc:
            if not db_transient(exc) or connection.in_atomic_block:
                raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseUnavailable(
                    f"the database was unavailable for {budget:.0f} s while {what} ({tries} tries; last error: {exc})"
                ) from exc
            log.warning(
                "%s: database unavailable (%s); try %d, retrying in %.1f s", what, exc, tries, min(wait, remaining)
            )
            _drop_broken_connection()
            time.sleep(min(wait, remaining))
            wait = min(wait * 2, DB_RETRY_MAX_WAIT_S)


class RunCancelled(Exception):
    """Raised inside a chunk when its run was cancelled meanwhile."""


def _worker_name() -> str:
    return f"{socket.gethostname()}:{threading.get_native_id()}"


# --- start -----------------------------------------------------------------------------------


def scoring_run_start(
    *,
    params: dict[str, Any],
    draws: int,
    scenario: Scenario | None = None,
    name: str = "",
    user=None,
    dispatch: bool = True,
) -> ScoringRun:
    """Create a queued run and publish its start message once the transaction commits.

    If the broker is unreachable the run stays queued with ``dispatched_at`` empty; the sweep
    publishes it when the broker is back. Callers read ``run.dispatched_at`` after the call to
    tell the user. ``dispatch=False`` only saves it, for :func:`scoring_run_execute_inline`.
    """

    ScenarioParams.from_dict(params)  # validate before anything is saved
    with transaction.atomic():
        run = ScoringRun.objects.create(
            scenario=scenario,
            scenario_name=name or (scenario.name if scenario else "ad hoc"),
            params=params,
            draws=draws,
            created_by=user if user is not None and user.is_authenticated else None,
            stage="queued",
        )
        if dispatch:
            transaction.on_commit(lambda: scoring_run_dispatch(run_id=run.id))
    run.refresh_from_db()
    return run


def scoring_run_dispatch(*, run_id: int) -> bool:
    """Publish the start message of a queued run; return False if the broker refused."""
    if not queue.task_publish(queue.SCORING_RUN_EXECUTE, run_id, what=f"Run {run_id}"):
        ScoringRun.objects.filter(id=run_id, status=ScoringRun.Status.QUEUED).update(
            stage="waiting for the job queue (broker unreachable); starts when it is back"
        )
        return False
    ScoringRun.objects.filter(id=run_id, dispatched_at__isnull=True).update(dispatched_at=timezone.now())
    return True


# --- execute ---------------------------------------------------------------------------------


def _input_frames() -> tuple[dict[str, Any], dict[str, Any]]:

    return selectors.scoring_inputs_pack(selectors.scoring_inputs())


def _data_vintage(n_sites: int, n_points: int) -> dict[str, Any]:

    return {
        "datasets": {
            d.dataset: {"sha256": d.sha256, "rows": d.rows, "vintage": d.vintage} for d in DatasetLoad.objects.all()
        },
        "n_sites": n_sites,
        "n_grid_points": n_points,
    }


def scoring_run_execute(*, run_id: int, publish: bool = True, inputs=None) -> None:
    """Claim a queued run, snapshot its inputs and fan out its chunks (sizes × draw blocks).

    ``publish=False`` leaves the chunks pending without sending them to the broker (for
    :func:`scoring_run_execute_inline`). ``inputs`` (a ``ScoringInputs``) is snapshotted
    instead of the database's sites and grid: for benchmarks on synthetic data.
    """
    now = timezone.now()
    claimed = ScoringRun.objects.filter(id=run_id, status=ScoringRun.Status.QUEUED).update(
        status=ScoringRun.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        stage="snapshotting inputs",
    )
    if claimed != 1:
        return  # already claimed, finished or cancelled: a redelivered message does nothing
    run = with_db_retry(lambda: ScoringRun.objects.get(id=run_id), what=f"loading run {run_id}")
    # The chunks go to whichever workers consume their queue now: lay the run out for them
    # (unless the operator set the block). Asked on a side thread while the inputs are read and
    # packed: the question waits on the broker for about half a second, which every worker
    # would otherwise spend idle before the first chunk.
    ask = publish and not DRAWS_PER_BLOCK
    with ThreadPoolExecutor(max_workers=1) as side:
        asked = side.submit(queue.queue_pool_processes, queue.SCORING_CHUNK_EXECUTE) if ask else None
        try:
            params = ScenarioParams.from_dict(run.params)
            if inputs is None:
                input_frames, arrays = with_db_retry(_input_frames, what=f"reading run {run_id}'s inputs")
            else:
                input_frames, arrays = selectors.scoring_inputs_pack(inputs)
            blob = frames.frames_pack(input_frames, arrays)
            data_vintage = with_db_retry(
                lambda: _data_vintage(len(input_frames["sites"]), len(input_frames["grid"])),
                what=f"reading run {run_id}'s data vintage",
            )
            workers = asked.result() if asked is not None else None  # never raises: None when unknown
            with_db_retry(
                lambda: _snapshot_write(run_id, params, run.draws, input_frames, blob, data_vintage, publish, workers),
                what=f"saving run {run_id}'s snapshot",
            )
        except Exception as exc:
            log.exception("Run %s failed while preparing", run_id)
            _fail_run(run_id, f"Preparing the inputs failed: {exc}")


def _snapshot_write(
    run_id: int,
    params,
    draws: int,
    input_frames: dict[str, Any],
    blob: bytes,
    data_vintage: dict[str, Any],
    publish: bool,
    workers: int | None = None,
) -> None:
    """Save a run's input snapshot and its chunks in one transaction (safe to run again).

    The chunks are laid out for ``workers`` pool processes (None: unknown); the run's stage
    says how, while it scores.
    """
    with transaction.atomic():
        # The snapshot may exist from an attempt that died after writing it: replace it.
        RunInput.objects.filter(run_id=run_id).delete()
        RunInput.objects.create(run_id=run_id, payload=blob, sha256=hashlib.sha256(blob).hexdigest())
        RunChunk.objects.filter(run_id=run_id).delete()
        block = chunk_block_draws(len(params.sizes), draws, workers)
        chunks = [
            RunChunk(run_id=run_id, index=i, size_h100e=size, draw_start=start, draw_stop=stop)
            for i, (size, start, stop) in enumerate(
                chunk_layout(params.sizes, draws, draws_per_block=block, workers=workers)
            )
        ]
        stage = _layout_stage(len(chunks), block, draws, workers, publish)
        RunChunk.objects.bulk_create(chunks)
        updated = ScoringRun.objects.filter(id=run_id, status=ScoringRun.Status.RUNNING).update(
            n_sites=len(input_frames["sites"]),
            n_chunks=len(chunks),
            data_vintage=data_vintage,
            stage=stage,
            heartbeat_at=timezone.now(),
        )
        if updated != 1:
            transaction.set_rollback(True)  # cancelled meanwhile: leave no chunks behind
            return
        log.info("Run %s: %s", run_id, stage)
        chunk_ids = list(RunChunk.objects.filter(run_id=run_id).values_list("id", flat=True))
        if publish:
            transaction.on_commit(lambda: _publish_chunks(chunk_ids))


def _layout_stage(n_chunks: int, block: int, draws: int, workers: int | None, publish: bool) -> str:
    """Return the run's stage while it scores: its chunks, their block, and what chose it."""
    # The pages show it translated (``siting.labels.stage_label`` reads this form back).
    text = f"scoring: {n_chunks} chunk{'s' if n_chunks != 1 else ''}"
    if draws:
        text += f" of ≤ {block} draw{'s' if block != 1 else ''}"
    if DRAWS_PER_BLOCK:
        return f"{text} (GIGASITE_DRAWS_PER_BLOCK)"
    if not publish:
        return f"{text} (in this process)"
    if workers is None:
        return f"{text} (no worker answered)"
    return f"{text} for {workers} worker process{'es' if workers != 1 else ''}"


def chunk_block_draws(n_sizes: int, draws: int, workers: int | None = None) -> int:
    """Return the Monte Carlo draws per block of a run of ``n_sizes`` sizes × ``draws`` draws.

    ``DRAWS_PER_BLOCK`` when the operator set it. Otherwise the largest block that still gives
    each of ``workers`` processes ``CHUNKS_PER_WORKER`` chunks, within [``MIN_DRAWS_PER_BLOCK``,
    ``MAX_DRAWS_PER_BLOCK``]; ``MAX_DRAWS_PER_BLOCK`` when ``workers`` is unknown (None).
    1,000 draws × 7 sizes: blocks of 125 (56 chunks) up to 14 workers, of 112 (63) at 15,
    then smaller down to blocks of 60 (119 chunks) from 29 workers on.
    """
    if DRAWS_PER_BLOCK:
        return max(1, int(DRAWS_PER_BLOCK))
    if not workers or workers < 1 or draws < 1:
        return MAX_DRAWS_PER_BLOCK
    blocks_per_size = -(-CHUNKS_PER_WORKER * int(workers) // max(1, n_sizes))  # ceiling division
    block = -(-draws // blocks_per_size)
    return min(MAX_DRAWS_PER_BLOCK, max(MIN_DRAWS_PER_BLOCK, block))


def chunk_layout(
    sizes, draws: int, draws_per_block: int | None = None, workers: int | None = None
) -> list[tuple[int, int, int]]:
    """Return the chunks of a run as (size, draw_start, draw_stop), in the order they are sent.

    Blocks of ``draws_per_block`` draws when given, else :func:`chunk_block_draws` for
    ``workers`` processes. Every size gets ⌈draws / block⌉ blocks (one empty block without
    draws), the last one possibly shorter.

    Order: the first block of every size first (every size under way from the start). Then the
    other blocks a group of sizes after another, ``workers`` sizes a group (every size in one
    group when ``workers`` is unknown; the remainder, when ``workers`` does not divide the
    sizes, is the first group), each group's blocks interleaved. The last block of a size
    merges it (unpacking every block's sketch, scoring the size's table and writing it: up to a
    second at 1,000 H100e on a 2-core machine here, 2026-11-28); with every size in one group
    all those merges fall in the run's last moments, when the processes that finished first
    wait for them. By groups, a group's merges overlap with the next group's blocks, the
    run ends on the largest sizes, whose chunks and merges are the shortest, and a group's
    processes mostly work on different sizes, so that two blocks of a size seldom end together.
    """
    sizes = list(sizes)
    block = max(1, int(draws_per_block)) if draws_per_block else chunk_block_draws(len(sizes), draws, workers)
    starts = list(range(0, draws, block)) or [0]
    first = [(int(size), 0, min(block, draws)) for size in sizes]
    group = max(1, len(sizes) if not workers or workers < 1 else min(len(sizes), int(workers)))
    # The short group (when the sizes do not divide into groups) goes first, so that the run ends
    # on a whole group: its last merges then run side by side on as many processes, instead of
    # one merge alone while the others wait (7 sizes on 2 workers: 1k | 2k 5k | 10k 20k | 50k 100k).
    bounds = [0, *range(len(sizes) % group or group, len(sizes) + 1, group)]
    rest = [
        (int(size), start, min(start + block, draws))
        for g0, g1 in zip(bounds, bounds[1:])
        for start in starts[1:]
        for size in sizes[g0:g1]
    ]
    return first + rest


def scoring_run_execute_inline(*, run_id: int) -> ScoringRun:
    """Execute a queued run entirely in this process, chunk after chunk (no broker, no worker).

    Same claims, snapshot and atomic result writes as the Celery path: for the command line
    on one machine, the demo run of ``./gigasite up`` when no worker is wanted, and tests.
    """
    scoring_run_execute(run_id=run_id, publish=False)
    for chunk_id in RunChunk.objects.filter(run_id=run_id).order_by("index").values_list("id", flat=True):
        scoring_chunk_execute(chunk_id=chunk_id)
    return ScoringRun.objects.get(id=run_id)


def _publish_chunks(chunk_ids: list[int]) -> None:
    for chunk_id in chunk_ids:
        # A chunk not published stays pending; the sweep re-publishes it, nothing is lost.
        queue.task_publish(queue.SCORING_CHUNK_EXECUTE, chunk_id, what=f"Chunk {chunk_id}")


class _Heartbeat:
    """Beat a chunk's heartbeat from a side thread while the main thread computes."""

    def __init__(self, chunk_id: int, run_id: int) -> None:
        self.chunk_id, self.run_id = chunk_id, run_id
        self.beats = self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=f"heartbeat-{chunk_id}")

    def _loop(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_INTERVAL_S):
                try:
                    self.beat()
                except Exception as exc:
                    # A database blip must not end the beating: log, drop a broken
                    # connection, and beat again at the next interval.
                    self.failures += 1
                    log.warning("heartbeat of chunk %s missed (%s); still beating", self.chunk_id, exc)
                    _drop_broken_connection()
        finally:
            connection.close()

    def beat(self) -> None:
        now = timezone.now()
        RunChunk.objects.filter(id=self.chunk_id, status=RunChunk.Status.RUNNING).update(heartbeat_at=now)
        ScoringRun.objects.filter(id=self.run_id, status=ScoringRun.Status.RUNNING).update(heartbeat_at=now)
        self.beats += 1

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _check_not_cancelled(run_id: int) -> None:
    status = ScoringRun.objects.filter(id=run_id).values_list("status", flat=True).first()
    if status != ScoringRun.Status.RUNNING:
        raise RunCancelled(status)


class _SnapshotCache:
    """The last run snapshot this process unpacked, keyed by run and checksum.

    A worker process scores many chunks of the same run in a row; each one read the snapshot
    from the database and unpacked it (about 20 ms and a few MB read per chunk on the shipped
    data, 56 times for a 1,000-draw run, measured here 2026-11-28). Only the latest is kept: a
    process holds at most one snapshot, which it holds anyway while scoring. It is let go once
    its run has no chunk left to start (:func:`_snapshot_release`), or ``SNAPSHOT_IDLE_S`` to twice
    that after the process last used it (a run cancelled or failed meanwhile, chunks taken by other
    machines), so an idle worker holds none for long. The engine never changes its inputs
    (``tests/siting/runs/test_run_draw_blocks.py`` checks).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, str] | None = None
        self._inputs: Any = None
        self._used = 0  # counts uses, so an expiry knows whether the snapshot was used since
        self._timer: threading.Timer | None = None

    def inputs(self, run_id: int) -> Any:
        """Return run ``run_id``'s snapshot as ``ScoringInputs`` (raises ``RunInput.DoesNotExist``)."""
        sha256 = RunInput.objects.filter(run_id=run_id).values_list("sha256", flat=True).first()
        if sha256 is None:
            raise RunInput.DoesNotExist(f"run {run_id} has no input snapshot")
        with self._lock:
            self._used += 1
            if self._key == (run_id, sha256):
                return self._inputs
            self._key, self._inputs = None, None  # let the old snapshot go before reading the new one
            # Checksum and payload from one row: a snapshot replaced meanwhile is read whole.
            row = RunInput.objects.filter(run_id=run_id).values_list("sha256", "payload").first()
            if row is None:
                raise RunInput.DoesNotExist(f"run {run_id} has no input snapshot")
            sha256, payload = row[0], bytes(row[1])
            if hashlib.sha256(payload).hexdigest() != sha256:
                raise ValueError(f"run {run_id}'s input snapshot does not match its checksum")
            # The checksum names the content, so each chunk's preparation finds its cache entry
            # without hashing every frame again (``ScoringInputs.content_key``).
            inputs = dataclasses.replace(
                selectors.scoring_inputs_unpack(*frames.frames_unpack(payload)),
                content_key=b"run snapshot sha256:" + bytes.fromhex(sha256),
            )
            self._key, self._inputs = (run_id, sha256), inputs
            return inputs

    def clear(self, run_id: int | None = None) -> None:
        """Drop the snapshot held (only if it is run ``run_id``'s, when given)."""
        with self._lock:
            if run_id is None or (self._key is not None and self._key[0] == run_id):
                self._key, self._inputs = None, None

    def expire_later(self, delay_s: float) -> None:
        """Drop the snapshot held ``delay_s`` to ``2 × delay_s`` after this process last used it.

        One timer at a time: a chunk after the first does not start another one; the timer, when
        it finds the snapshot used since it was set, sets itself again.
        """
        with self._lock:
            if self._key is not None and (self._timer is None or not self._timer.is_alive()):
                self._start_timer(delay_s)

    def _start_timer(self, delay_s: float) -> None:  # under the lock
        self._timer = threading.Timer(delay_s, self._expire, args=(self._used, delay_s))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, used: int, delay_s: float = 0.0) -> None:
        with self._lock:
            if self._used == used:
                self._key, self._inputs = None, None
            elif self._key is not None and delay_s > 0:
                self._start_timer(delay_s)  # used since: look again one delay later


_snapshots = _SnapshotCache()


def run_inputs(run_id: int) -> Any:
    """Return a run's input snapshot as ``ScoringInputs``, unpacked once per process (see ``_SnapshotCache``)."""
    return _snapshots.inputs(run_id)


def score_chunk(
    *, inputs: Any, params_dict: dict[str, Any], size_h100e: int, draw_start: int, draw_stop: int, progress=None
) -> bytes:
    """Compute one chunk from a run's inputs (:func:`run_inputs`); return what it keeps until its size merges.

    The block's rank sketch over draws [draw_start, draw_stop), packed (an empty archive for
    the empty block of a size without draws). The size's deterministic table is scored by the
    chunk that merges it (:func:`size_table`): packing it in a block and reading it back at the
    merge took 0.14 s a size, scoring it again 0.01 s (shipped data, 2026-11-29).
    """

    params = _size_params(params_dict, size_h100e)
    arrays = {}
    if draw_stop > draw_start:
        sketches = score_draws(inputs, params, draw_range=(draw_start, draw_stop), progress=progress)
        arrays = sketch.sketch_arrays(sketches[int(size_h100e)])
    # Kept only until the size merges.
    return frames.frames_pack({}, arrays)


def _size_params(params_dict: dict[str, Any], size_h100e: int) -> ScenarioParams:
    return dataclasses.replace(ScenarioParams.from_dict(params_dict), sizes=(int(size_h100e),))


def size_table(*, inputs: Any, params_dict: dict[str, Any], size_h100e: int) -> tuple[Any, Any]:
    """Return the deterministic result table of one size of a run, and its connection options
    (None when there are none), from the run's inputs (:func:`run_inputs`)."""

    result = score_inputs(inputs, _size_params(params_dict, size_h100e), draws=0)
    options = getattr(result, "options", None)
    return result.table, options if options is not None and len(options) else None


def scoring_chunk_execute(*, chunk_id: int) -> None:
    """Claim a pending chunk, score its size, and store the result atomically."""
    now = timezone.now()
    claimed = RunChunk.objects.filter(
        id=chunk_id, status=RunChunk.Status.PENDING, run__status=ScoringRun.Status.RUNNING
    ).update(
        status=RunChunk.Status.RUNNING,
        worker=_worker_name(),
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        error="",
    )
    if claimed != 1:
        return
    # Every database step below retries a blip (a lock, a restarting server) with back-off;
    # the run fails only when a step's retries are spent, and says so.
    chunk = with_db_retry(
        lambda: RunChunk.objects.select_related("run").defer("partial").get(id=chunk_id),
        what=f"loading chunk {chunk_id}",
    )
    run = chunk.run

    reported = [time.monotonic()]

    def progress(share: float) -> None:
        # Called after every Monte Carlo draw: every PROGRESS_INTERVAL_S, report and stop early
        # if the run was cancelled meanwhile.
        now = time.monotonic()
        if now - reported[0] < PROGRESS_INTERVAL_S:
            return
        reported[0] = now

        def write() -> None:
            _check_not_cancelled(run.id)
            RunChunk.objects.filter(id=chunk_id).update(progress_pct=round(100.0 * share, 1))
            _run_progress_update(run.id)

        with_db_retry(write, what=f"reporting progress of chunk {chunk_id}")

    try:
        inputs = with_db_retry(lambda: run_inputs(run.id), what=f"reading run {run.id}'s inputs")
        with _Heartbeat(chunk.id, run.id):
            partial = score_chunk(
                inputs=inputs,
                params_dict=run.params,
                size_h100e=chunk.size_h100e,
                draw_start=chunk.draw_start,
                draw_stop=chunk.draw_stop,
                progress=progress if chunk.draw_stop > chunk.draw_start else None,
            )
            with_db_retry(lambda: _check_not_cancelled(run.id), what=f"checking run {run.id}")

            # Under the heartbeat: the last block of a size merges the size. The merge is computed
            # before the run's lock is taken when the other blocks are already done (it takes
            # seconds on large runs, and the lock holds up every other chunk's writes); storing
            # checks it under the lock and merges there only if the blocks changed meanwhile.
            premerged = with_db_retry(lambda: _size_premerge(chunk, partial), what=f"merging chunk {chunk_id}'s size")
            with_db_retry(
                lambda: _store_chunk_result(chunk, partial, premerged=premerged), what=f"storing chunk {chunk_id}"
            )
    except RunCancelled:
        with_db_retry(
            lambda: RunChunk.objects.filter(id=chunk_id).update(status=RunChunk.Status.FAILED, error="run cancelled"),
            what=f"closing chunk {chunk_id}",
        )
    except Exception as exc:
        log.exception("Chunk %s of run %s failed", chunk_id, run.id)
        what = f"Scoring size {chunk.size_h100e:,} H100e"
        if chunk.draw_stop > chunk.draw_start:
            what += f" (draws {chunk.draw_start}–{chunk.draw_stop - 1})"
        reason = f"{what} {'stopped' if isinstance(exc, DatabaseUnavailable) else 'failed'}: {exc}"
        error = str(exc)[:2000]  # ``exc`` is unbound once the except block ends; the retry closure needs the text
        with_db_retry(
            lambda: RunChunk.objects.filter(id=chunk_id).update(status=RunChunk.Status.FAILED, error=error),
            what=f"failing chunk {chunk_id}",
        )
        _fail_run(run.id, reason)
    finally:
        _snapshot_release(run.id)


def _snapshot_release(run_id: int) -> None:
    """Let this process's copy of a run's snapshot go once the run has no chunk left to start.

    Checked after every chunk: a worker keeps the snapshot only while its run may still send it
    chunks (a chunk given back after a crash reads it again); otherwise it goes
    ``SNAPSHOT_IDLE_S`` after its last use. Never raises.
    """
    try:
        if not RunChunk.objects.filter(run_id=run_id, status=RunChunk.Status.PENDING).exists():
            _snapshots.clear(run_id)
            return
    except Exception as exc:  # a database blip (any kind): the expiry below still lets it go
        log.info("run %s: snapshot kept in memory for now (%s)", run_id, exc)
    _snapshots.expire_later(SNAPSHOT_IDLE_S)


def _run_progress_update(run_id: int) -> None:
    """Set the run's progress to the mean progress of its chunks (done chunks count 100 %)."""
    shares = list(RunChunk.objects.filter(run_id=run_id).values_list("progress_pct", flat=True))
    if shares:
        ScoringRun.objects.filter(id=run_id, status=ScoringRun.Status.RUNNING).update(
            progress_pct=min(99.9, sum(shares) / len(shares))
        )


def size_merge(*, partials: list[bytes], draws: int, table: Any, options: Any = None) -> dict[str, Any]:
    """Return the ``RunResult`` fields of one size from the partials of all its blocks and the
    size's deterministic ``table`` and connection ``options`` (:func:`size_table`).

    ``table`` gets the Monte Carlo statistics of the merged sketches (exact counts and
    probabilities; percentiles within ``sketch.RELATIVE_ACCURACY``). Raises ValueError when a
    block is missing or counted twice.
    """

    sketches = []
    for blob in partials:
        arrays = frames.frames_unpack(blob)[1]
        if arrays:
            sketches.append(sketch.sketch_from_arrays(arrays))
    if draws:
        merged = sketch.merge(sketches)
        if (merged.draw_start, merged.draw_stop) != (0, draws) or merged.n_sites != len(table):
            raise ValueError(
                f"the blocks cover draws [{merged.draw_start}, {merged.draw_stop}) of {merged.n_sites} "
                f"sites, not [0, {draws}) of {len(table)}"
            )
        for name, values in sketch.rank_stats(merged).items():
            table[name] = values
    feasible = table[table["feasible"].astype(bool)]
    best = feasible.sort_values("rank").iloc[0] if len(feasible) else None
    return {
        "n_sites": int(table["site_id"].nunique()),
        "n_feasible": int(len(feasible)),
        "best_site_id": int(best["site_id"]) if best is not None else None,
        "best_score": float(best["score"]) if best is not None else None,
        "table": frames.frames_pack({"table": table}),
        "options": frames.frames_pack({"options": options}) if options is not None and len(options) else None,
    }


def _chunk_size_table(chunk: RunChunk) -> tuple[Any, Any]:
    """Return :func:`size_table` of ``chunk``'s size, from its run's snapshot (unpacked once per
    process: a merging chunk finds the one it scored from)."""
    return size_table(inputs=run_inputs(chunk.run_id), params_dict=chunk.run.params, size_h100e=chunk.size_h100e)


def _size_premerge(chunk: RunChunk, partial: bytes) -> tuple[frozenset[int], dict[str, Any]] | None:
    """Return the merged size, and the chunks it merged, if every other block of the chunk's size
    is already done; else None. Reads only: nothing is locked or written.

    A done block's partial does not change until its size is merged, which only the last block
    to finish does: :func:`_store_chunk_result` uses this result only if, under the run's lock,
    the size's blocks are exactly the ones merged here.
    """
    others = list(
        RunChunk.objects.filter(run_id=chunk.run_id, size_h100e=chunk.size_h100e)
        .exclude(id=chunk.id)
        .values_list("id", "status")
    )
    if any(status != RunChunk.Status.DONE for _, status in others):
        return None
    rows = list(RunChunk.objects.filter(id__in=[i for i, _ in others]).values_list("draw_start", "partial")) + [
        (chunk.draw_start, partial)
    ]
    blobs: list[tuple[int, bytes]] = []
    for draw_start, blob in rows:
        if blob is None:
            return None  # merged meanwhile by another attempt: the store finds out under the lock
        blobs.append((draw_start, bytes(blob)))
    blobs.sort(key=lambda row: row[0])
    table, options = _chunk_size_table(chunk)
    merged = size_merge(partials=[blob for _, blob in blobs], draws=chunk.run.draws, table=table, options=options)
    return frozenset([chunk.id, *(i for i, _ in others)]), merged


def _store_chunk_result(
    chunk: RunChunk, partial: bytes, premerged: tuple[frozenset[int], dict[str, Any]] | None = None
) -> None:
    """Mark a chunk done with its partial; the last block of its size merges the size.

    One transaction, under the run's row lock: marking done, storing the merged size and the
    run's success commit together or not at all, so a crash at any point leaves the chunk
    running for the sweep to give back, and a block is never merged twice or missed.
    ``premerged`` (:func:`_size_premerge`) is used when the size's blocks are still exactly the
    ones it merged; otherwise the merge runs here, under the lock.
    """
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().get(id=chunk.run_id)
        if run.status != ScoringRun.Status.RUNNING:
            raise RunCancelled(run.status)
        now = timezone.now()
        marked = RunChunk.objects.filter(id=chunk.id, status=RunChunk.Status.RUNNING).update(
            status=RunChunk.Status.DONE, finished_at=now, progress_pct=100.0, heartbeat_at=now, partial=partial
        )
        if marked != 1:
            # The sweep gave this chunk away meanwhile; the other attempt will store it.
            transaction.set_rollback(True)
            return
        size_chunks = RunChunk.objects.filter(run_id=run.id, size_h100e=chunk.size_h100e)
        if not size_chunks.exclude(status=RunChunk.Status.DONE).exists():
            if premerged is not None and premerged[0] == frozenset(size_chunks.values_list("id", flat=True)):
                result = dict(premerged[1])
            else:
                partials = []
                for p in size_chunks.order_by("draw_start").values_list("partial", flat=True):
                    # Each done chunk stored its partial; only this merge, run once per size, clears them.
                    assert p is not None
                    partials.append(bytes(p))
                table, options = _chunk_size_table(chunk)
                result = size_merge(partials=partials, draws=run.draws, table=table, options=options)
                del partials
            if result["best_site_id"] is not None and not Site.objects.filter(id=result["best_site_id"]).exists():
                result["best_site_id"] = None  # deleted since the snapshot, or a synthetic input
            RunResult.objects.filter(run_id=run.id, size_h100e=chunk.size_h100e).delete()
            RunResult.objects.create(run_id=run.id, size_h100e=chunk.size_h100e, **result)
            size_chunks.update(partial=None)  # merged: the result holds everything now
        done = RunChunk.objects.filter(run_id=run.id, status=RunChunk.Status.DONE).count()
        shares = list(RunChunk.objects.filter(run_id=run.id).values_list("progress_pct", flat=True))
        fields: dict[str, Any] = {"progress_pct": min(99.9, sum(shares) / max(len(shares), 1)), "heartbeat_at": now}
        if done == run.n_chunks:
            # Stamped after the size's result is written: the run's time includes its last merge.
            fields.update(
                status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now(), stage="done", progress_pct=100.0
            )
        ScoringRun.objects.filter(id=run.id).update(**fields)


def _fail_run(run_id: int, reason: str) -> None:
    """Mark a run and its unfinished chunks failed with ``reason`` (retrying a database blip)."""

    @transaction.atomic
    def write() -> None:
        ScoringRun.objects.filter(id=run_id, status__in=[ScoringRun.Status.QUEUED, ScoringRun.Status.RUNNING]).update(
            status=ScoringRun.Status.FAILED, error=reason[:4000], finished_at=timezone.now(), stage="failed"
        )
        RunChunk.objects.filter(run_id=run_id, status__in=[RunChunk.Status.PENDING, RunChunk.Status.RUNNING]).update(
            status=RunChunk.Status.FAILED, error="run failed"
        )
        RunChunk.objects.filter(run_id=run_id, partial__isnull=False).update(partial=None)

    with_db_retry(write, what=f"failing run {run_id}")


# --- cancel and recover ----------------------------------------------------------------------


def scoring_run_cancel(*, run: ScoringRun) -> bool:
    """Cancel a queued or running run; return False if it had already finished."""
    now = timezone.now()
    cancelled = ScoringRun.objects.filter(
        id=run.id, status__in=[ScoringRun.Status.QUEUED, ScoringRun.Status.RUNNING]
    ).update(status=ScoringRun.Status.CANCELLED, finished_at=now, stage="cancelled")
    if cancelled:
        # Results already stored belong to an unfinished run: drop them so nothing partial shows.
        RunResult.objects.filter(run_id=run.id).delete()
        RunChunk.objects.filter(run_id=run.id, status__in=[RunChunk.Status.PENDING, RunChunk.Status.RUNNING]).update(
            status=RunChunk.Status.FAILED, error="run cancelled"
        )
        RunChunk.objects.filter(run_id=run.id, partial__isnull=False).update(partial=None)  # blocks never merged
    return bool(cancelled)


def scoring_runs_sweep(*, stale_after_s: float | None = None) -> dict[str, int]:
    """Recover from crashed workers and an absent broker; return what was done.

    - A running chunk with a stale heartbeat goes back to pending and is re-published, up to
      ``MAX_ATTEMPTS`` tries; then its run fails with the reason.
    - A running run still preparing (no chunks) with a stale heartbeat goes back to queued.
    - A queued run never published (broker down at submission) is published again.
    """
    close_old_connections()
    stale = timezone.now() - timedelta(seconds=STALE_AFTER_S if stale_after_s is None else stale_after_s)
    counts = {"chunks_requeued": 0, "chunks_failed": 0, "runs_requeued": 0, "runs_dispatched": 0, "runs_failed": 0}
    for chunk in (
        RunChunk.objects.filter(
            status=RunChunk.Status.RUNNING, heartbeat_at__lt=stale, run__status=ScoringRun.Status.RUNNING
        )
        .select_related("run")
        .defer("partial")
    ):
        if chunk.attempts >= MAX_ATTEMPTS:
            if RunChunk.objects.filter(id=chunk.id, status=RunChunk.Status.RUNNING, heartbeat_at__lt=stale).update(
                status=RunChunk.Status.FAILED, error="worker lost"
            ):
                _fail_run(
                    chunk.run_id,
                    f"The worker scoring size {chunk.size_h100e:,} H100e stopped "
                    f"{chunk.attempts} times (last on {chunk.worker}); the run was stopped.",
                )
                counts["chunks_failed"] += 1
            continue
        if RunChunk.objects.filter(id=chunk.id, status=RunChunk.Status.RUNNING, heartbeat_at__lt=stale).update(
            status=RunChunk.Status.PENDING, error=f"worker {chunk.worker} lost; retried"
        ):
            counts["chunks_requeued"] += 1
            queue.task_publish(queue.SCORING_CHUNK_EXECUTE, chunk.id, what=f"Chunk {chunk.id}")

    # Pending chunks whose message may have been lost (broker restarted, publish failed).
    for chunk in RunChunk.objects.filter(
        status=RunChunk.Status.PENDING, run__status=ScoringRun.Status.RUNNING, run__heartbeat_at__lt=stale
    ).only("id"):
        queue.task_publish(queue.SCORING_CHUNK_EXECUTE, chunk.id, what=f"Chunk {chunk.id}")

    for run in ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING, n_chunks=0, heartbeat_at__lt=stale):
        if run.attempts >= MAX_ATTEMPTS:
            _fail_run(run.id, f"The worker preparing this run stopped {run.attempts} times.")
            counts["runs_failed"] += 1
        elif ScoringRun.objects.filter(
            id=run.id, status=ScoringRun.Status.RUNNING, n_chunks=0, heartbeat_at__lt=stale
        ).update(status=ScoringRun.Status.QUEUED, stage="retrying after a lost worker", dispatched_at=None):
            counts["runs_requeued"] += 1
            scoring_run_dispatch(run_id=run.id)

    waiting = timezone.now() - timedelta(seconds=REDISPATCH_AFTER_S)
    for run_id in ScoringRun.objects.filter(
        status=ScoringRun.Status.QUEUED, dispatched_at__isnull=True, created_at__lt=waiting
    ).values_list("id", flat=True):
        if scoring_run_dispatch(run_id=run_id):
            counts["runs_dispatched"] += 1
    return counts
