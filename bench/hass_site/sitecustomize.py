"""Start-up hooks for the Home Assistant processes that ``scripts/bench_e2e`` starts.

Put this directory on ``PYTHONPATH``; without the variables below nothing happens.

``SILVER_BELL_BENCH_NO_HOUSEHOLD_ENTITIES=1`` (``--memory``): the hub creates no
per-household sensors (and so no household devices), to measure what Home
Assistant's three entities per household cost. The product has no such switch.

``SILVER_BELL_CPROFILE_DIR`` (``scripts/bench_e2e --cprofile``): the event
loop's thread (the main thread, where signal handlers run) is profiled with
``cProfile`` between SIGUSR1 and SIGUSR2; SIGUSR2 writes the statistics to
``<dir>/<pid>-<n>.pstats``. Deterministic (every call counted, in that thread
only), slower while it runs: for where the loop's time goes, not for rates.

``SILVER_BELL_SAMPLER_DIR``: a small in-process sampling profiler for
``scripts/bench_e2e --profile`` without py-spy. Every
Python process started that way then runs one daemon thread that does nothing
but look for the file ``<dir>/<pid>.on`` every 50 ms. While that file exists it
samples the stacks of all threads (``sys._current_frames``) at ``SAMPLE_HZ``
and, when the file is removed, writes them to the path the file named, in
py-spy's "raw" (collapsed stacks) format, so the same summary reads both.
Then it writes ``<path>.done``. Without the variable nothing happens.

Sampling takes the interpreter lock for a moment each time (a few % of one
core at 100 Hz with Home Assistant's few dozen threads), and it can only look
while it holds that lock: a thread is seen more often where it releases the
lock (a socket write, a database call) than where it runs Python. Good for
finding where the time goes, not for shares to the percent (py-spy, which
samples from outside, is better when it can be installed).
"""

from __future__ import annotations

from collections import Counter
import importlib.util
import os
from pathlib import Path
import sys
import threading
import time

SAMPLE_HZ = 100


def _frame_name(frame: object) -> str:
    code = frame.f_code  # type: ignore[attr-defined]
    return f"{code.co_qualname} ({code.co_filename}:{frame.f_lineno})"  # type: ignore[attr-defined]


def _stack(frame: object) -> str:
    names = []
    while frame is not None:
        names.append(_frame_name(frame))
        frame = frame.f_back  # type: ignore[attr-defined]
    return ";".join(reversed(names))


def _sample(out: Path, control: Path) -> None:
    me = threading.get_ident()
    counts: Counter[str] = Counter()
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    period = 1 / SAMPLE_HZ
    while control.exists():
        for ident, frame in sys._current_frames().items():  # noqa: SLF001
            if ident == me:
                continue
            thread = names.get(ident)
            if thread is None:
                names = {t.ident: t.name for t in threading.enumerate()}
                thread = names.get(ident, "?")
            label = "".join(c if c.isalnum() or c in "-_." else "_" for c in thread)
            counts[f"thread {label} (thread:0);{_stack(frame)}"] += 1
        time.sleep(period)
    text = "".join(f"{stack} {count}\n" for stack, count in counts.items())
    out.write_text(text, encoding="utf-8")
    Path(f"{out}.done").write_text("", encoding="utf-8")


def _watch(directory: Path) -> None:
    control = directory / f"{os.getpid()}.on"
    while True:
        time.sleep(0.05)
        try:
            target = control.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if target:
            _sample(Path(target), control)


class _NoHouseholdSensors:
    """Import hook: empty ``HOUSEHOLD_SENSORS`` of the hub's sensor platform on import."""

    name = "custom_components.silver_bell.hub.sensor"

    def find_spec(self, fullname: str, path: object, target: object = None) -> object:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: object) -> None:
            run(module)  # type: ignore[arg-type]
            module.HOUSEHOLD_SENSORS = ()  # type: ignore[attr-defined]

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if os.environ.get("SILVER_BELL_BENCH_NO_HOUSEHOLD_ENTITIES") and "hass" in sys.argv[0]:
    sys.meta_path.insert(0, _NoHouseholdSensors())  # type: ignore[arg-type]


def _cprofile_switch(directory: Path) -> None:
    import cProfile
    import signal

    state: dict[str, object] = {"n": 0}

    def start(_signum: int, _frame: object) -> None:
        profiler = cProfile.Profile()
        state["profiler"] = profiler
        profiler.enable()

    def stop(_signum: int, _frame: object) -> None:
        profiler = state.pop("profiler", None)
        if profiler is None:
            return
        profiler.disable()  # type: ignore[attr-defined]
        state["n"] = int(state["n"]) + 1  # type: ignore[call-overload]
        out = directory / f"{os.getpid()}-{state['n']}.pstats"
        profiler.dump_stats(str(out))  # type: ignore[attr-defined]

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


if (_cdir := os.environ.get("SILVER_BELL_CPROFILE_DIR")) and "hass" in sys.argv[0]:
    Path(_cdir).mkdir(parents=True, exist_ok=True)
    _cprofile_switch(Path(_cdir))

if (_dir := os.environ.get("SILVER_BELL_SAMPLER_DIR")) and "hass" in sys.argv[0]:
    threading.Thread(
        target=_watch, args=(Path(_dir),), name="silver-bell-sampler", daemon=True
    ).start()
