"""Load test: start the real server (as `make run` does) and drive it over HTTP like browser pages do.

    python benchmarks/bench_load.py [--clients 8,16] [--row 60] [--slow 300] [--renders 40] [--shutdown]
                                    [--port 8071] [--server waitress] [-- serve options]

--server: waitress (default: `python -m visualizer serve`, what `make run` runs), dev (the same app on Dash's
development server, debug off: the old `make run`), gunicorn (gunicorn -w 1 -k gthread --threads 32
visualizer.app.factory:server; gunicorn must be importable, e.g. PYTHONPATH=/folder/with/gunicorn; not a requirement).

Each simulated page loads the layout (GET /_dash-layout: its own session id), then asks for a different
experiment (four_optimizers with its own seed, so nothing comes from the cache): POST
/_dash-update-component for the main callback (payload built from GET /_dash-dependencies and the
layout's values, the seed changed), polling the progress callback every 0.5 s meanwhile like the page
does (the server cancels work for pages that stop polling), then POST the render callback with the
store the main callback answered, as the page does to draw the figures. Latency: from sending the main
callback to receiving the figures.

Prints, for 8 and 16 concurrent clients: answered / sent, latency min / median / max, and the peak RSS
of the server and its child processes (the sum of VmRSS over the process tree, sampled every 0.1 s; and
the server process's own VmHWM); then 60 distinct experiments in a row with the tree's RSS after each 10.

Hostile load (issue 17): ``--slow N`` keeps N slow connections open beside the clients (each sends a request
line, then a header line every 3 s, never finishing: a slowloris) and times GET / and a small callback
meanwhile (2 s client timeout); ``--renders N`` sends N render callbacks of distinct seeds (results not in
the cache) with a 1 s client timeout, times GET / right after, and the workers' CPU in the 30 s after
every client gave up; ``--shutdown`` starts a long computation, sends SIGTERM and times the exit.
Talks only to 127.0.0.1; every loop is bounded.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks.procfs import cpu_seconds, pss, status, tree, tree_cpu  # noqa: E402
from tests.helpers import SlowClients  # noqa: E402  (the slow connections the tests use)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 2**20


# ----------------------------------------------------------------- HTTP
def http(url, body=None, timeout=300):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        is_json = "json" in (r.headers.get("Content-Type") or "")
        return r.status, (json.loads(raw) if raw and is_json else raw)


def _components(node, out):
    """id -> props of every component with an id in a layout tree."""
    if isinstance(node, list):
        for n in node:
            _components(n, out)
    elif isinstance(node, dict) and "props" in node:
        props = node["props"]
        if "id" in props:
            cid = props["id"]
            out[json.dumps(cid, sort_keys=True) if isinstance(cid, dict) else cid] = (cid, props)
        for v in props.values():
            _components(v, out)
    return out


def _items(dep_id, prop, comps, overrides):
    """Dash's request items for one dependency: a dict, or a list of them for an ALL wildcard."""
    if dep_id.startswith("{"):
        pattern = json.loads(dep_id)
        hits = []
        for cid, props in comps.values():
            if isinstance(cid, dict) and all(cid.get(k) == v for k, v in pattern.items() if v != ["ALL"]):
                hits.append({"id": cid, "property": prop, "value": props.get(prop)})
        return sorted(hits, key=lambda h: h["id"].get("index", 0))
    _, props = comps[dep_id]
    return {"id": dep_id, "property": prop, "value": overrides.get(f"{dep_id}.{prop}", props.get(prop))}


def _outputs(output, comps):
    outs = []
    for part in output.strip(".").split("..."):
        cid, _, prop = part.rpartition(".")
        prop = prop.split("@")[0]
        if cid.startswith("{"):
            outs.append([{"id": i["id"], "property": prop} for i in _items(cid, prop, comps, {})])
        else:
            outs.append({"id": cid, "property": prop})
    return outs


class Page:
    """One browser page: its layout (session id) and the payloads of the callbacks it sends."""

    def __init__(self, base, deps, timeout=300):
        self.base = base
        _, layout = http(base + "/_dash-layout", timeout=timeout)
        self.comps = _components(layout, {})
        self.session = self.comps["session-id"][1]["data"]
        self.deps = deps

    def payload(self, dep, changed, overrides):
        return {"output": dep["output"], "outputs": _outputs(dep["output"], self.comps),
                "inputs": [_items(i["id"], i["property"], self.comps, overrides) for i in dep["inputs"]],
                "state": [_items(s["id"], s["property"], self.comps, overrides) for s in dep["state"]],
                "changedPropIds": changed}

    def call(self, name, changed, overrides, timeout=300):
        status, body = http(self.base + "/_dash-update-component",
                            self.payload(self.deps[name], changed, overrides), timeout=timeout)
        return body["response"] if body else {}

    def experiment(self, seed):
        """Ask for four_optimizers with ``seed`` and draw it; returns (seconds, ok, message)."""
        done = threading.Event()

        def poll():                                     # the page's progress poll (its heartbeat)
            n = 0
            while not done.wait(0.5) and n < 1200:
                n += 1
                try:
                    self.call("progress", ["progress-tick.n_intervals"], {"progress-tick.n_intervals": n}, 30)
                except (urllib.error.URLError, OSError):
                    pass
        t = threading.Thread(target=poll, daemon=True)
        t0 = time.perf_counter()
        t.start()
        try:
            out = self.call("main", ["seed.value"], {"seed.value": seed})
        finally:
            done.set()
        store = out.get("spec-store", {}).get("data")
        alert = out.get("alert-error", {}).get("children")
        if not store:
            return time.perf_counter() - t0, False, alert or "no store"
        drawn = self.call("render", ["spec-store.data"], {"spec-store.data": store})
        ok = "graph-landscape-3d" in drawn and store["spec"]["seed"] == seed
        return time.perf_counter() - t0, ok, None if ok else "no figure"




def timed(fn):
    """(seconds, None) or (seconds, error text) of ``fn()``."""
    t0 = time.perf_counter()
    try:
        fn()
        return time.perf_counter() - t0, None
    except Exception as e:                          # a timeout, a refused connection
        return time.perf_counter() - t0, f"{type(e).__name__}: {e}"


def probe(base, deps, timeout=2.0):
    """Time GET / and the dataset-options callback (a cheap one) with a client timeout; a text line."""
    page_s, page_err = timed(lambda: http(base + "/", timeout=timeout))
    cb_s, cb_err = timed(lambda: Page(base, deps, timeout=timeout).call(
        "options", ["spec-base.data"], {}, timeout=timeout))
    fmt = lambda s, e: f"{s:.2f} s" if e is None else f"failed after {s:.1f} s ({e[:60]})"   # noqa: E731
    return f"GET / {fmt(page_s, page_err)}, callback {fmt(cb_s, cb_err)} (client timeout {timeout:g} s)"


def dependencies(base):
    _, deps = http(base + "/_dash-dependencies")
    named = {}
    for d in deps:
        ins = [i["id"] + "." + i["property"] for i in d["inputs"]]
        if "spec-store.data" in d["output"] and "seed.value" in ins:
            named["main"] = d
        elif "graph-landscape-3d.figure" in d["output"] and ins[0] == "spec-store.data":
            named["render"] = d
        elif ins == ["progress-tick.n_intervals"]:
            named["progress"] = d
        elif "dataset.options" in d["output"]:
            named["options"] = d
    assert set(named) == {"main", "render", "progress", "options"}, f"callbacks not found: {sorted(named)}"
    return named


# ----------------------------------------------------------------- memory of the server's process tree
class Sampler:
    """Peaks of the summed VmRSS and Pss of the server's process tree, sampled every 0.1 s (RSS counts the
    pages the workers share with the forkserver once per process; Pss splits them)."""

    def __init__(self, pid):
        self.pid, self.peak, self.peak_pss, self._stop = pid, 0, 0, threading.Event()
        self.peak_all = self.peak_pss_all = 0
        self.cpu = {}                    # pid -> its last CPU seconds seen (a killed worker's CPU still counts)
        self._lock = threading.Lock()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def now(self):
        return sum(status(p, "VmRSS") for p in tree(self.pid))

    def nowpss(self):
        return sum(pss(p) for p in tree(self.pid))

    def cpu_total(self):
        """(CPU seconds of the server process, of every descendant seen so far, the dead ones included)."""
        self._sample_cpu()
        with self._lock:
            return self.cpu.get(self.pid, 0.0), sum(v for p, v in self.cpu.items() if p != self.pid)

    def _sample_cpu(self):
        for p in tree(self.pid):
            c = cpu_seconds(p)
            with self._lock:
                self.cpu[p] = max(self.cpu.get(p, 0.0), c)

    def _run(self):
        while not self._stop.wait(0.1):
            self._sample_cpu()
            self.peak = max(self.peak, self.now())
            self.peak_pss = max(self.peak_pss, self.nowpss())
            self.peak_all, self.peak_pss_all = max(self.peak_all, self.peak), max(self.peak_pss_all, self.peak_pss)

    def reset(self):
        self.peak, self.peak_pss = self.now(), self.nowpss()

    def stop(self):
        self._stop.set()
        self._t.join()


# ----------------------------------------------------------------- the runs
def concurrent(base, deps, n, seed0, sampler):
    pages = [Page(base, deps) for _ in range(n)]
    sampler.reset()
    load = open("/proc/loadavg").read().split()[0]
    cpu0 = tree_cpu(sampler.pid)
    res = [None] * n

    def go(i):
        try:
            res[i] = pages[i].experiment(seed0 + i)
        except Exception as e:                     # counted as not answered
            res[i] = (float("nan"), False, f"{type(e).__name__}: {e}")
    th = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    t0 = time.perf_counter()
    for t in th:
        t.start()
    for t in th:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    cpu1 = tree_cpu(sampler.pid)
    lat = sorted(r[0] for r in res if r and r[1])
    bad = [r[2] for r in res if not (r and r[1])]
    print(f"{n} concurrent clients, each a different experiment (four_optimizers, seeds {seed0}..{seed0 + n - 1}):")
    if lat:
        print(f"  answered {len(lat)}/{n}; latency (request -> figures) min {lat[0]:.1f} s, median "
              f"{statistics.median(lat):.1f} s, max {lat[-1]:.1f} s; all done in {wall:.1f} s")
    else:
        print(f"  answered 0/{n}")
    if bad:
        print(f"  not answered: {bad[:3]}")
    print(f"  peak memory of the server and its workers (sums over the process tree): RSS {sampler.peak / MB:.0f} MB, "
          f"PSS {sampler.peak_pss / MB:.0f} MB; server process VmHWM {status(sampler.pid, 'VmHWM') / MB:.0f} MB")
    print(f"  CPU: server process {cpu1[0] - cpu0[0]:.1f} s, workers {cpu1[1] - cpu0[1]:.1f} s; "
          f"load average before: {load}")


def in_a_row(base, deps, n, seed0, sampler):
    page = Page(base, deps)
    print(f"{n} distinct experiments in a row (four_optimizers, seeds {seed0}..{seed0 + n - 1}), RSS of the "
          "server tree after each 10:")
    line, lat = [], []
    for i in range(n):
        dt, ok, msg = page.experiment(seed0 + i)
        if not ok:
            print(f"  seed {seed0 + i}: not answered ({msg})")
        lat.append(dt)
        if (i + 1) % 10 == 0:
            line.append(f"{i + 1}: {sampler.now() / MB:.0f} MB (PSS {sampler.nowpss() / MB:.0f})")
    print("  " + ", ".join(line))
    print(f"  latency median {statistics.median(lat):.1f} s; server process VmHWM "
          f"{status(sampler.pid, 'VmHWM') / MB:.0f} MB")


def renders(base, deps, n, seed0, sampler, port):
    """n render callbacks of results not in the cache (distinct seeds), each with a 1 s client timeout."""
    pages = [Page(base, deps) for _ in range(n)]
    store = pages[0].call("main", ["seed.value"], {"seed.value": seed0 - 1}).get("spec-store", {}).get("data") or {}
    cpu0 = sampler.cpu_total()

    def go(i):
        d = json.loads(json.dumps(store.get("spec") or {}))
        if not d:
            return
        d["seed"] = seed0 + i
        try:
            pages[i].call("render", ["spec-store.data"], {"spec-store.data": {"key": None, "spec": d}}, timeout=1)
        except Exception:                            # the client gives up after 1 s, as the test did
            pass
    th = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    for t in th:
        t.join(timeout=60)
    line = probe(base, deps)
    cpu1 = sampler.cpu_total()
    time.sleep(30)
    cpu2 = sampler.cpu_total()
    print(f"{n} render callbacks of distinct seeds, each given up by its client after 1 s:")
    print(f"  right after: {line}")
    print(f"  CPU while they were sent: server {cpu1[0] - cpu0[0]:.1f} s, workers {cpu1[1] - cpu0[1]:.1f} s; in the "
          f"30 s after every client had gone: server {cpu2[0] - cpu1[0]:.1f} s, workers {cpu2[1] - cpu1[1]:.1f} s")


def shutdown_time(base, deps, server):
    """Start a long computation on a page, then SIGTERM the server: seconds until it exited."""
    page = Page(base, deps)
    box = {}

    def go():
        try:
            box["r"] = page.call("main", ["steps.value"], {"steps.value": 9970}, timeout=120)
        except Exception as e:
            box["r"] = e
    t = threading.Thread(target=go, daemon=True)
    t.start()
    status = ""
    for n in range(100):                               # the page polls until its run trains (at most 20 s)
        try:
            status = page.call("progress", ["progress-tick.n_intervals"], {"progress-tick.n_intervals": n + 1}, 10)
            status = json.dumps(status)
        except Exception:
            status = ""
        if "training" in status:
            break
        time.sleep(0.2)
    busy = sum(1 for _ in tree(server.pid)) - 1
    t0 = time.perf_counter()
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    took = time.perf_counter() - t0
    print(f"shutdown with a computation running ({'training' if 'training' in status else 'no progress seen'}, "
          f"{busy} child processes): SIGTERM to exit {took:.2f} s, exit status {server.returncode}")
    return took


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", default="8,16", help="comma-separated concurrent client counts (default 8,16)")
    ap.add_argument("--row", type=int, default=60, help="experiments in a row (default 60; 0 skips)")
    ap.add_argument("--port", type=int, default=0, help="port for the server (default: a free one)")
    ap.add_argument("--server", choices=("waitress", "dev", "gunicorn"), default="waitress")
    ap.add_argument("--slow", type=int, default=0, help="slow connections kept open beside the clients (e.g. 300)")
    ap.add_argument("--renders", type=int, default=0, help="render callbacks given up after 1 s (e.g. 40)")
    ap.add_argument("--shutdown", action="store_true", help="time SIGTERM with a computation running")
    ap.add_argument("serve_args", nargs="*", help="extra options for `python -m visualizer serve` (after --)")
    args = ap.parse_args(argv)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = {"waitress": [sys.executable, "-m", "visualizer", "serve", "--host", "127.0.0.1", "--port", str(port),
                        *args.serve_args],
           "dev": [sys.executable, "-c", "from visualizer.app.factory import create_app; "
                   f"create_app().run(host='127.0.0.1', port={port}, debug=False)"],
           "gunicorn": [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "32", "-b",
                        f"127.0.0.1:{port}", "visualizer.app.factory:server"]}[args.server]
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench_load_server_{port}.log"), "w")
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                if http(base + "/", timeout=5)[0] == 200:
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not answer within 30 s")
        print(f"server: {' '.join(['python'] + cmd[1:])}  (pid {server.pid}, {os.cpu_count()} cores, "
              f"load average {open('/proc/loadavg').read().split()[0]})")
        deps = dependencies(base)
        sampler = Sampler(server.pid)
        Page(base, deps).experiment(1)              # warm: imports, first figures
        slow = None
        if args.slow:
            slow = SlowClients(port, args.slow)
            for _ in range(100):
                if slow.rounds >= 2:
                    break
                time.sleep(0.1)
            print(f"{len(slow.socks)} slow connections open ({slow.refused} refused), each sending a header line "
                  f"every 3 s; {probe(base, deps)}")
        for i, n in enumerate(int(x) for x in args.clients.split(",") if x):
            concurrent(base, deps, n, 1000 * (i + 1), sampler)
            if slow is not None:
                print(f"  after it, with the slow connections still open: {probe(base, deps)}")
        if slow is not None:
            slow.close()
        if args.renders:
            renders(base, deps, args.renders, 5000, sampler, port)
        if args.row:
            in_a_row(base, deps, args.row, 9000, sampler)
        print(f"peak memory of the server tree over the whole run: RSS {sampler.peak_all / MB:.0f} MB, "
              f"PSS {sampler.peak_pss_all / MB:.0f} MB")
        sampler.stop()
        if args.shutdown and args.server == "waitress":
            shutdown_time(base, deps, server)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    print(f"server stopped with exit status {server.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
