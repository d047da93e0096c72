"""Time per engine step over every path of the shipped flow.

Run: ``uv run python bench/bench_triage.py``. A "step" is what a handler does for one tap:
``engine.answer(...)`` then ``engine.next_step(...)`` (the first step is ``next_step`` on a
new session). Each step is timed with ``time.perf_counter_ns``; the script reports the
median and 99th percentile in microseconds over every step of every path, in one run.
"""

from __future__ import annotations

import statistics
import time

from bot.triage.engine import EmergencyCard, Result, Session, TriageEngine
from content.triage_schema import load_triage_flow


def main() -> None:
    """Walk every path, timing each step; print the summary."""
    engine = TriageEngine(load_triage_flow())
    clock = time.perf_counter_ns
    samples: list[int] = []
    paths = 0
    started = clock()
    first = engine.start()
    begin = clock()
    step = engine.next_step(first)
    samples.append(clock() - begin)
    stack: list[tuple[Session, object]] = [(first, step)]
    while stack:
        session, step = stack.pop()
        if isinstance(step, EmergencyCard):
            step = step.then
        if isinstance(step, Result):
            paths += 1
            continue
        question = step.question  # type: ignore[attr-defined]
        index = step.index  # type: ignore[attr-defined]
        for answer in question.answers:
            begin = clock()
            child = engine.answer(session, index, question.id, answer.id)
            assert child is not None
            following = engine.next_step(child)
            samples.append(clock() - begin)
            stack.append((child, following))
    total = (clock() - started) / 1e9
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(f"paths: {paths}  steps timed: {len(samples)}  wall time: {total:.1f} s")
    print(f"per step: median {statistics.median(samples) / 1000:.1f} us, p99 {p99 / 1000:.1f} us")


if __name__ == "__main__":
    main()
