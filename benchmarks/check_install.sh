#!/usr/bin/env bash
# Checks the install story for real (needs network to PyPI; not part of the default test run):
#   1. `pip install ROOT` (non-editable) into a fresh venv, then from another folder: import core and run a short
#      four_optimizers, `landscape presets`, `landscape-app --help`, a short `landscape-app export`, and
#      `landscape-app serve` (the page and its CSS answer; SIGTERM stops it with status 0);
#   2. `pip install "ROOT[dask]"`, a `dask scheduler` and two `dask worker`s from that venv with NO PYTHONPATH,
#      `landscape sweep docs/examples/small_sweep.json --scheduler tcp://127.0.0.1:PORT` against
#      `--scheduler inline`: every array of the two files must be equal bit for bit (np.array_equal and bytes); the
#      JSON `meta` too, apart from its `info` (engine, workers, chunk size, seconds: where and how it ran).
# Usage: benchmarks/check_install.sh [VENV_DIR]      (default /tmp/lln-install-check; removed and recreated)
# Exit status 0 when every check passes. tests/test_install.py runs it when LLN_CHECK_INSTALL=1.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${1:-/tmp/lln-install-check}"
PORT="${LLN_CHECK_PORT:-8799}"
PYTHON="${PYTHON:-python3}"
unset PYTHONPATH
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
step() { echo "== $*"; }

step "fresh venv $VENV, pip install $ROOT (non-editable)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "$ROOT"
cd "$WORK"                                   # another folder: nothing of the checkout on sys.path

step "import core from site-packages, a short four_optimizers"
"$VENV/bin/python" - <<'EOF'
import core, visualizer
assert "site-packages" in core.__file__ and "site-packages" in visualizer.__file__, (core.__file__, visualizer.__file__)
d = core.ExperimentSpec.preset("four_optimizers").to_dict()
d["training"]["steps"] = 200
d["grid"]["resolution"] = 21
result = core.run_experiment(core.ExperimentSpec.from_dict(d))
for row in result.summary():
    print(f"  {row['label']:<13} final loss {row['final_loss']:.4f}")
import importlib.resources as ir
assets = ir.files("visualizer.app") / "assets"
names = sorted(p.name for p in assets.iterdir())
assert any(n.endswith(".css") for n in names), names
print("  visualizer/app/assets:", ", ".join(names))
EOF

step "console scripts"
"$VENV/bin/landscape" presets
"$VENV/bin/landscape-app" --help | head -3
"$VENV/bin/landscape-app" export "$ROOT/docs/examples/short_run.json" --format png --out "$WORK/short.png" --quiet
test -s "$WORK/short.png" && echo "  exported short.png ($(stat -c %s "$WORK/short.png") bytes)"

step "landscape-app serve: the page and its CSS (package data) answer; SIGTERM stops it with status 0"
APP_PORT=$((PORT + 1))
"$VENV/bin/landscape-app" serve --port "$APP_PORT" --workers 1 >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
for _ in $(seq 1 120); do
    "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$APP_PORT/', timeout=2)" \
        2>/dev/null && break
    sleep 0.5
done
"$VENV/bin/python" - "$APP_PORT" <<'EOF'
import sys
import urllib.request as u
base = f"http://127.0.0.1:{sys.argv[1]}"
page = u.urlopen(base + "/", timeout=10).read().decode()
css = u.urlopen(base + "/assets/app.css", timeout=10)
assert "assets/app.css" in page and css.status == 200, (page[:300], css.status)
print(f"  / and /assets/app.css answer 200 ({len(css.read())} bytes of CSS)")
EOF
kill -TERM "$SERVE_PID"
status=0; wait "$SERVE_PID" || status=$?
echo "  stopped with status $status: $(tail -1 "$WORK/serve.log")"
[ "$status" -eq 0 ]

step "pip install $ROOT[dask]"
"$VENV/bin/pip" install --quiet "$ROOT[dask]"

step "dask scheduler on port $PORT and two dask workers, no PYTHONPATH"
"$VENV/bin/dask" scheduler --host 127.0.0.1 --port "$PORT" --no-dashboard >"$WORK/scheduler.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do grep -q "Scheduler at" "$WORK/scheduler.log" && break; sleep 0.5; done
for i in 1 2; do
    DASK_CONFIG="$ROOT/assets/dask" "$VENV/bin/dask" worker "tcp://127.0.0.1:$PORT" --nthreads 1 --no-dashboard >"$WORK/worker$i.log" 2>&1 &
    PIDS+=($!)
done
for _ in $(seq 1 60); do
    [ "$(cat "$WORK"/worker*.log | grep -c 'Registered to')" -ge 2 ] && break; sleep 0.5
done

step "landscape sweep: cluster against inline"
"$VENV/bin/landscape" sweep "$ROOT/docs/examples/small_sweep.json" --scheduler "tcp://127.0.0.1:$PORT" \
    --timeout 60 --quiet --out "$WORK/a.npz" | tail -3
"$VENV/bin/landscape" sweep "$ROOT/docs/examples/small_sweep.json" --scheduler inline --quiet --out "$WORK/b.npz" \
    | tail -1
"$VENV/bin/python" - "$WORK/a.npz" "$WORK/b.npz" <<'EOF'
import json
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert sorted(a.files) == sorted(b.files), (a.files, b.files)
arrays = [k for k in a.files if k != "meta"]
bad = [k for k in arrays if not (a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes()
                                 and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"))]
print(f"  {len(arrays)} arrays compared bit for bit, {len(bad)} differ" + (f": {bad}" if bad else ""))
# meta (JSON): the spec and the results must agree; only meta["info"] (where and how it ran) may differ
ma, mb = json.loads(str(a["meta"])), json.loads(str(b["meta"]))
ia, ib = ma.pop("info", {}), mb.pop("info", {})
print(f"  meta equal apart from info: {ma == mb}; info differs in: "
      + ", ".join(f"{k} ({ia.get(k)!r} / {ib.get(k)!r})" for k in sorted(set(ia) | set(ib)) if ia.get(k) != ib.get(k)))
sys.exit(1 if bad or ma != mb else 0)
EOF
grep -h "Registered to" "$WORK"/worker*.log | sed 's/^/  /' || true
step "all install checks passed"
