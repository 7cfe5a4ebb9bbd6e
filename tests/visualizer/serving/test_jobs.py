"""visualizer.serving.jobs: per-session progress, cancellation of superseded computations, the concurrency bound."""
import threading
import time

import pytest
from dash import no_update

import core
from tests.helpers import small_spec_dict
from visualizer.app import spec_callbacks as cb
from visualizer.app import progress_callbacks as pcb
from visualizer.serving.cache import ResultCache, spec_key
from visualizer.errors import Cancelled
from visualizer.serving.jobs import JobRegistry


def _spec(seed=0, **training):
    d = small_spec_dict()
    d["seed"] = seed
    d["training"].update(training)
    return core.ExperimentSpec.from_dict(d)


class SlowRunner:
    """Calls progress like core.run_experiment (train ticks, then the surface), slowly; counts its runs."""

    def __init__(self, ticks=20, tick_s=0.02):
        self.ticks, self.tick_s = ticks, tick_s
        self.calls = []
        self.reached = {}                     # seed -> last training tick reached
        self.lock = threading.Lock()

    def __call__(self, spec, progress=None):
        with self.lock:
            self.calls.append(spec.seed)
        for k in range(1, self.ticks + 1):
            time.sleep(self.tick_s)
            self.reached[spec.seed] = k
            if progress:
                progress("train", k * 1000, self.ticks * 1000)
        if progress:
            progress("surface", 0, 1)
            progress("surface", 1, 1)
        return f"result {spec.seed}"


def _run(jobs, spec, session, out):
    def go():
        try:
            out[session] = jobs.compute(spec, session)
        except Cancelled as e:
            out[session] = e
    t = threading.Thread(target=go)
    t.start()
    return t


def _registry(ticks):
    """(runner, cache, jobs) over a SlowRunner of ``ticks`` progress ticks."""
    runner = SlowRunner(ticks=ticks)
    cache = ResultCache(maxsize=4, runner=runner)
    return runner, cache, JobRegistry(cache)


def _training(jobs, spec, session, out):
    """Start ``spec`` for ``session`` in a thread and wait until it reports training."""
    t = _run(jobs, spec, session, out)
    _until(lambda: (jobs.status(session) or "").startswith("training"))
    return t


def _until(cond, timeout=5.0):
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_a_newer_request_of_the_same_session_cancels_the_older_one():
    runner, cache, jobs = _registry(50)
    out = {}
    old = _training(jobs, _spec(1), "A", out)
    assert "/ 50,000 steps" in jobs.status("A")
    key, result, hit = jobs.compute(_spec(2), "A")                # supersedes seed 1
    old.join(timeout=5)
    assert result == "result 2" and not hit
    assert isinstance(out["A"], Cancelled)
    assert spec_key(_spec(1)) not in cache and spec_key(_spec(2)) in cache
    assert runner.reached[1] < 10                                  # the old run stopped at its next tick
    assert jobs.status("A") is None and jobs.running() == 0


def test_a_cache_hit_also_supersedes_the_running_request():
    _, cache, jobs = _registry(50)
    cache.put(spec_key(_spec(2)), "cached 2")
    out = {}
    old = _training(jobs, _spec(1), "A", out)
    assert jobs.compute(_spec(2), "A")[1:] == ("cached 2", True)
    old.join(timeout=5)
    assert isinstance(out["A"], Cancelled) and spec_key(_spec(1)) not in cache


def test_two_sessions_share_one_computation_and_one_leaving_does_not_cancel_it():
    runner, cache, jobs = _registry(10)
    out = {}
    ta = _run(jobs, _spec(1), "A", out)
    _until(lambda: jobs.status("A") is not None)
    tb = _run(jobs, _spec(1), "B", out)
    _until(lambda: jobs.status("B") is not None)
    assert jobs.running() == 1
    jobs.cancel("A")                                              # A leaves; B still wants the result
    ta.join(timeout=5); tb.join(timeout=5)
    assert out["B"][1] == "result 1"
    assert isinstance(out["A"], Cancelled)                        # superseded: A's page no longer wants it
    assert runner.calls == [1] and spec_key(_spec(1)) in cache


def test_at_most_two_computations_run_at_once_and_the_others_are_queued():
    runner = SlowRunner(ticks=8)
    cache = ResultCache(maxsize=8, runner=runner, max_running=2)
    jobs = JobRegistry(cache)
    out = {}
    threads = [_run(jobs, _spec(seed), f"S{seed}", out) for seed in range(5)]
    _until(lambda: sum((jobs.status(f"S{s}") or "").startswith("queued") for s in range(5)) == 3)
    for t in threads:
        t.join(timeout=10)
    assert cache.peak_running == 2
    assert sorted(runner.calls) == list(range(5))
    assert all(out[f"S{s}"][1] == f"result {s}" for s in range(5))


def test_a_queued_request_can_be_cancelled_before_it_starts():
    runner = SlowRunner(ticks=30)
    cache = ResultCache(maxsize=8, runner=runner, max_running=1)
    jobs = JobRegistry(cache)
    out = {}
    t1 = _run(jobs, _spec(1), "A", out)
    _until(lambda: (jobs.status("A") or "").startswith("training"))
    t2 = _run(jobs, _spec(2), "B", out)
    _until(lambda: (jobs.status("B") or "").startswith("queued"))
    jobs.cancel("B")
    t2.join(timeout=2)
    assert not t2.is_alive() and isinstance(out["B"], Cancelled) and runner.calls == [1]
    t1.join(timeout=5)


def test_the_real_run_experiment_stops_at_its_next_progress_call():
    cache = ResultCache(maxsize=2)                                  # core.run_experiment
    jobs = JobRegistry(cache)
    spec = _spec(0, steps=20000, record_every=100)
    out = {}
    t = _run(jobs, spec, "A", out)
    _until(lambda: (jobs.status("A") or "").startswith("training: 1,000"), timeout=30)
    jobs.cancel("A")
    t.join(timeout=10)                                              # 20,000 steps would take far longer
    assert not t.is_alive() and isinstance(out["A"], Cancelled) and len(cache) == 0


def test_main_callback_answers_a_superseded_request_with_no_update(caplog):
    slow = SlowRunner(ticks=50)

    def runner(spec, progress=None):                  # seed 0 never finishes in time; the others are real
        return slow(spec, progress) if spec.seed == 0 else core.run_experiment(spec, progress=progress)
    cache = ResultCache(maxsize=4, runner=runner)
    jobs = JobRegistry(cache)
    d = small_spec_dict()
    values, extras = cb.controls_from_spec(d)
    base = {"spec": core.ExperimentSpec.from_dict(d).to_dict(), "extras": extras}
    res = {}
    t = threading.Thread(target=lambda: res.update(old=cb.main("controls", values, base, cache,
                                                               jobs=jobs, session="A")))
    t.start()
    _until(lambda: jobs.status("A") is not None)
    assert pcb.progress_status(jobs, "A").startswith(("queued", "training"))
    assert pcb.progress_status(jobs, "B") is no_update and pcb.progress_status(jobs, None) is no_update
    v2 = {k: (list(x) if isinstance(x, list) else x) for k, x in values.items()}
    v2["seed"] = 7
    new = cb.main("controls", v2, base, cache, jobs=jobs, session="A")
    t.join(timeout=5)
    assert all(v is no_update for v in res["old"].values())      # no message, no traceback, nothing stored
    assert new["alert"] == "" and new["store"]["spec"]["seed"] == 7 and "computed" in new["status"]
    assert all(r.exc_info is None for r in caplog.records)
    assert pcb.progress_status(jobs, "A") is no_update


def test_the_cache_rejects_a_bad_bound():
    with pytest.raises(ValueError, match="max_running"):
        ResultCache(max_running=0)


# ----------------------------------------------------------------- requests of a page (jobs.request), heartbeats
def _request(jobs, session, fn, out, name):
    """What wiring does for one main-callback request, in a thread: jobs.request around fn()."""
    def go():
        with jobs.request(session) as req:
            try:
                out[name] = fn()
                req["status"] = f"status of {name}"
            except Cancelled as e:
                out[name] = e
    t = threading.Thread(target=go)
    t.start()
    return t


def test_a_newer_invalid_request_cancels_the_running_one():
    runner, cache, jobs = _registry(200)
    out = {}
    old = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "old")
    _until(lambda: (jobs.status("A") or "").startswith("training"))

    with jobs.request("A"):                                       # a newer request that fails validation
        with pytest.raises(ValueError):
            core.ExperimentSpec.from_dict({"seed": -3})
    old.join(timeout=5)
    assert isinstance(out["old"], Cancelled) and runner.reached[1] < 50
    assert jobs.running() == 0 and spec_key(_spec(1)) not in cache


def test_main_with_an_over_the_cap_request_names_the_fix_and_cancels_the_older_one(caplog):
    from visualizer.serving.runner import LocalRunner
    slow = SlowRunner(ticks=200)
    local = LocalRunner(max_work=5e9)

    def runner(spec, progress=None):              # seed 0 is slow; the others go through the real cap
        return slow(spec, progress) if spec.seed == 0 else local(spec, progress)
    cache = ResultCache(maxsize=4, runner=runner)
    jobs = JobRegistry(cache)
    d = small_spec_dict()
    values, extras = cb.controls_from_spec(d)
    base = {"spec": core.ExperimentSpec.from_dict(d).to_dict(), "extras": extras}
    res = {}
    t = _request(jobs, "A", lambda: cb.main("controls", values, base, cache, jobs=jobs, session="A"), res, "old")
    _until(lambda: (jobs.status("A") or "").startswith("training"))
    v2 = {k: (list(x) if isinstance(x, list) else x) for k, x in values.items()}
    v2.update(seed=7, steps=20000, record_every=100)
    with jobs.request("A") as req:
        new = cb.main("controls", v2, base, cache, jobs=jobs, session="A")
        req["status"] = new["status"]
    t.join(timeout=5)
    assert ("serve --max-work" in new["alert"] and "training.steps <= " in new["alert"]
            and "(now 20,000)" in new["alert"])
    assert new["store"] is no_update
    assert all(v is no_update for v in res["old"].values())     # the older request was cancelled
    assert slow.reached[0] < 200 and jobs.running() == 0
    assert all(r.exc_info is None for r in caplog.records)


def test_progress_describes_the_newest_request_and_polling_speeds_up_and_down():
    runner = SlowRunner(ticks=100)
    cache = ResultCache(maxsize=4, runner=runner)
    jobs = JobRegistry(cache)
    out = {}
    first = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "first")
    _until(lambda: (jobs.status("A") or "").startswith("training"))
    assert pcb.progress_poll(jobs, "A", pcb.IDLE_POLL_MS, "") == (jobs.status("A"), pcb.POLL_MS)
    runner.ticks = 60                                             # the newer run has another step count
    second = _request(jobs, "A", lambda: jobs.compute(_spec(2), "A"), out, "second")
    _until(lambda: "/ 60,000 steps" in (jobs.status("A") or ""))
    first.join(timeout=5)
    assert isinstance(out["first"], Cancelled)
    text, interval = pcb.progress_poll(jobs, "A", pcb.IDLE_POLL_MS, "training: 3,000 / 100,000 steps")
    assert "/ 60,000 steps" in text and interval == pcb.POLL_MS   # the first request's end slowed it: back to 0.5 s
    second.join(timeout=10)
    assert out["second"][1] == "result 2"
    assert pcb.progress_poll(jobs, "A", pcb.POLL_MS, "drawing") == ("status of second", pcb.IDLE_POLL_MS)
    assert pcb.progress_poll(jobs, "A", pcb.IDLE_POLL_MS, "status of second") == (no_update, no_update)
    assert pcb.progress_poll(jobs, None, pcb.IDLE_POLL_MS, "") == (no_update, no_update)


class FakeClock:
    """A clock the test moves (JobRegistry's ``clock``): no sleeping to let time pass."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


def test_a_job_whose_page_stopped_polling_is_cancelled():
    runner = SlowRunner(ticks=600, tick_s=0.02)                  # 12 s if nobody stops it
    cache = ResultCache(maxsize=4, runner=runner)
    clock = FakeClock()
    jobs = JobRegistry(cache, heartbeat=15, clock=clock)
    out = {}
    t = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "A")
    _until(lambda: (jobs.status("A") or "").startswith("training"))
    for _ in range(3):                                            # 30 s in which the page polls every 10 s
        clock.advance(10)
        assert jobs.poll("A")["waiting"]
    reached = runner.reached[1]
    _until(lambda: runner.reached[1] > reached + 2)               # the job went on through progress calls
    assert t.is_alive() and jobs.running() == 1
    clock.advance(15.5)                                           # the tab closed: no poll for 15.5 s
    t.join(timeout=8)
    assert not t.is_alive() and isinstance(out["A"], Cancelled) and runner.reached[1] < 600
    assert jobs.running() == 0 and spec_key(_spec(1)) not in cache


def test_a_shared_job_runs_on_while_one_of_its_pages_still_polls():
    runner = SlowRunner(ticks=60, tick_s=0.02)
    cache = ResultCache(maxsize=4, runner=runner)
    clock = FakeClock()
    jobs = JobRegistry(cache, heartbeat=15, clock=clock)
    out = {}
    ta = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "A")
    tb = _request(jobs, "B", lambda: jobs.compute(_spec(1), "B"), out, "B")
    _until(lambda: (jobs.status("B") or "").startswith("training"))
    clock.advance(10)
    jobs.poll("B")                                                # only B polls
    clock.advance(10)                                             # A silent for 20 s, B for 10 s
    tb.join(timeout=10)
    ta.join(timeout=5)
    assert out["B"][1] == "result 1" and out["A"][1] == "result 1" and runner.calls == [1]


def test_the_heartbeat_must_be_positive():
    with pytest.raises(ValueError, match="heartbeat"):
        JobRegistry(ResultCache(), heartbeat=0)


def test_a_newer_request_for_the_same_spec_joins_the_running_computation():
    runner, cache, jobs = _registry(30)
    out = {}
    first = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "first")
    _until(lambda: (jobs.status("A") or "").startswith("training"))
    second = _request(jobs, "A", lambda: jobs.compute(_spec(1), "A"), out, "second")
    first.join(timeout=5); second.join(timeout=5)
    assert out["second"][1] == "result 1" and runner.calls == [1]        # computed once, the newest gets it
    assert isinstance(out["first"], Cancelled)                           # the older answer is not wanted
    assert jobs.running() == 0 and not jobs.poll("A")["waiting"]
