"""The documentation cannot go stale: every command it shows runs, every Python block runs, the package map is the tree.

- ```console blocks of README.md and docs/*.md: each line starting with ``$ `` (``\\`` continues it) is run in a
  subprocess (bash) in a scratch folder that mirrors the repository root (links to its entries; ``assets/`` a
  copy, so commands that rewrite a picture write to the copy), with this interpreter standing in for ``python``,
  ``landscape`` (= python -m core) and ``landscape-app`` (= python -m visualizer). A command must exit 0, or the
  status its trailing comment names (``# exit status 2``).
- ```python blocks run as scripts in such a folder.
- A block that cannot run in a test (``make run``, a real cluster, ``pip install``, minutes of work) is preceded by
  ``<!-- not run: REASON -->``; the reason must be given. Shell commands must be in console blocks (no ```bash).
- docs/architecture.md's package map lists exactly the modules of core/ and visualizer/.
"""
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.experiment.spec import CONSTRAINTS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
NOT_RUN = re.compile(r"^<!--\s*not run\s*:?\s*(.*?)\s*-->$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
TIMEOUT = 300                                   # seconds a command may take (the pages show cheap ones)


def blocks(path):
    """[(language, first line number, lines, not-run reason or None)] of the fenced blocks of a page."""
    lines = path.read_text().split("\n")
    out, i, reason_at = [], 0, {}
    for n, line in enumerate(lines):
        m = NOT_RUN.match(line.strip())
        if m:
            reason_at[n] = m.group(1)
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = len(m.group(1)), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        j = start - 1
        while j >= 0 and lines[j].strip() == "":
            j -= 1
        out.append((lang, start + 1, body, reason_at.get(j)))
        i += 1
    return out


def commands(body):
    """[(command, shown output lines)] of a console block: lines starting with '$ ' (joined over trailing
    backslashes), each followed by the lines it is shown to print (until the next '$ ' line)."""
    cmds, cur = [], None
    for line in body:
        if cur is not None:
            cur += "\n" + line
        elif line.startswith("$ "):
            cur = line[2:]
        elif cmds and line.strip():
            cmds[-1][1].append(line.rstrip())
            continue
        if cur is not None and not cur.endswith("\\"):
            cmds.append((cur, []))
            cur = None
    assert cur is None, f"a command ends in a backslash: {cur!r}"
    return cmds


def shown_in(shown, output):
    """Whether the shown lines appear in the output, in order (other lines may come between)."""
    lines = iter(line.rstrip() for line in output.split("\n"))
    return all(any(s == line for line in lines) for s in shown)


def expected_status(cmd):
    m = re.search(r"#.*\bexit status (\d+)\b[^\n]*$", cmd)
    return int(m.group(1)) if m else 0


def translate(cmd):
    """The shown command with this interpreter for python, landscape and landscape-app."""
    py = sys.executable
    at = r"(^|[;&|(]\s*|\btime\s+)"                # where a program's name stands: a command's start
    cmd = re.sub(at + r"(?:\.venv/bin/)?python3?(?=\s)", rf"\g<1>{py}", cmd)
    cmd = re.sub(at + r"landscape-app(?=\s|$)", rf"\g<1>{py} -m visualizer", cmd)
    return re.sub(at + r"landscape(?=\s|$)", rf"\g<1>{py} -m core", cmd)


def scratch(tmp_path):
    """A folder that looks like the repository root: links to its entries, assets/ copied."""
    for entry in ROOT.iterdir():
        if entry.name in (".git", ".venv", ".pytest-tmp") or entry.name.startswith(".pytest"):
            continue
        if entry.name == "assets":
            shutil.copytree(entry, tmp_path / "assets")
        else:
            (tmp_path / entry.name).symlink_to(entry)
    return tmp_path


def environment():
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", COLUMNS="120")
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    return env


ALL_BLOCKS = [(p, *b) for p in PAGES for b in blocks(p)]
CONSOLE = [b for b in ALL_BLOCKS if b[1] == "console" and b[4] is None]
PYTHON = [b for b in ALL_BLOCKS if b[1] == "python" and b[4] is None]


def block_id(b):
    return f"{b[0].relative_to(ROOT)}:{b[2]}"


def test_pages_exist_and_readme_is_short():
    names = {p.name for p in PAGES}
    for page in ("api", "specs", "method", "cli", "exports", "sweeps", "app", "serving", "benchmarks", "architecture"):
        assert f"{page}.md" in names, page
    n = len((ROOT / "README.md").read_text().split("\n"))
    assert n <= 220, f"README.md has {n} lines; keep it to about 200 and move details to docs/"


def test_every_skipped_block_has_a_reason_and_shell_is_in_console_blocks():
    for path, lang, line, body, reason in ALL_BLOCKS:
        where = f"{path.relative_to(ROOT)}:{line}"
        assert lang not in ("bash", "sh", "shell", "zsh", ""), \
            f"{where}: a ```{lang} block; commands go in ```console blocks ('$ ' lines), other text in ```text"
        if reason is not None:
            assert reason, f"{where}: '<!-- not run -->' without a reason"
            assert lang in ("console", "python"), f"{where}: 'not run' before a ```{lang} block (only console, python)"
        if lang == "console":
            assert commands(body), f"{where}: a console block without a '$ ' command"
    # a not-run comment must sit right before a block
    for path in PAGES:
        lines = path.read_text().split("\n")
        starts = {b[1] - 1 for b in blocks(path)}
        for n, text in enumerate(lines):
            if NOT_RUN.match(text.strip()):
                k = n + 1
                while k < len(lines) and lines[k].strip() == "":
                    k += 1
                assert k in starts, f"{path.relative_to(ROOT)}:{n + 1}: a 'not run' comment not followed by a block"


def test_the_readme_api_block_runs():
    assert any(b[0].name == "README.md" for b in PYTHON), "README.md's API block must be a runnable ```python block"


@pytest.mark.parametrize("block", CONSOLE, ids=block_id)
def test_console_block(block, tmp_path):
    path, _, line, body, _ = block
    folder, env = scratch(tmp_path), environment()
    for cmd, shown in commands(body):
        want = expected_status(cmd)
        proc = subprocess.run(["bash", "-c", "set -o pipefail; " + translate(cmd)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == want, (f"{path.relative_to(ROOT)}:{line}: `{cmd}` exited {proc.returncode}, "
                                         f"expected {want}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        assert shown_in(shown, proc.stdout + proc.stderr), (f"{path.relative_to(ROOT)}:{line}: `{cmd}` no longer "
                                                             f"prints what the page shows\n{proc.stdout[-3000:]}")
    for copy in sorted((folder / "assets").rglob("*")):         # a command that rewrites a picture reproduces it
        if copy.is_file():
            original = ROOT / copy.relative_to(folder)
            assert original.is_file() and copy.read_bytes() == original.read_bytes(), \
                f"{path.relative_to(ROOT)}:{line}: {copy.relative_to(folder)} is not what the command makes: regenerate"


@pytest.mark.parametrize("block", PYTHON, ids=block_id)
def test_python_block(block, tmp_path):
    path, _, line, body, _ = block
    folder = scratch(tmp_path)
    script = folder / "_doc_block.py"
    script.write_text("\n".join(body) + "\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=folder, env=environment(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, f"{path.relative_to(ROOT)}:{line}: the python block failed\n{proc.stderr[-3000:]}"


def test_specs_field_table_is_the_codes():
    text = (ROOT / "docs" / "specs.md").read_text()
    shown = re.findall(r"^\| `([a-z_.]+)` \| (.*) \|$", text, flags=re.M)
    assert shown == [(k, c.describe()) for k, c in CONSTRAINTS.items()], \
        "docs/specs.md's field table differs from core.experiment.spec.CONSTRAINTS: regenerate it"


def test_paths_named_in_the_pages_exist():
    """A `core/...`, `visualizer/...`, `tests/...`, `benchmarks/...`, `assets/...` or `docs/...` path in backticks
    names a file or folder of the repository (not after a move)."""
    named = re.compile(r"`((?:core|visualizer|tests|benchmarks|tools|assets|docs)/[\w./-]*)`")
    missing = [f"{p.relative_to(ROOT)}: {m}" for p in PAGES for m in named.findall(p.read_text())
               if not (ROOT / m).exists()]
    assert not missing, "paths that do not exist:\n" + "\n".join(missing)


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_pages_point_at_pages_and_headings_that_exist():
    bad = []
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([\w./-]*\.md)?(?:#([\w-]+))?\)", page.read_text()):
            dest = (page.parent / target).resolve() if target else page
            if not dest.exists():
                bad.append(f"{page.relative_to(ROOT)}: {target} does not exist")
            elif anchor:
                headings = re.findall(r"^#+ (.*)$", dest.read_text(), flags=re.M)
                if anchor not in {slug(h) for h in headings}:
                    bad.append(f"{page.relative_to(ROOT)}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not bad, "\n".join(bad)


# --- the package map -------------------------------------------------------------------------------------------

def tree_modules():
    """{'core/model/training.py' or 'core/model/' (a package's __init__.py): path} of core/ and visualizer/."""
    out = {}
    for pkg in ("core", "visualizer"):
        for p in sorted((ROOT / pkg).rglob("*.py")):
            if "__pycache__" in p.parts:
                continue
            rel = p.relative_to(ROOT).as_posix()
            out[rel[: -len("__init__.py")] if p.name == "__init__.py" else rel] = p
    return out


def package_map():
    """{module: description} from the ```text block under '## Package map' of docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Package map", 1)[1]
    block = section.split("```text", 1)[1].split("```", 1)[0]
    out = {}
    for line in block.strip("\n").split("\n"):
        name, _, desc = line.partition(" ")
        assert name not in out, f"docs/architecture.md lists {name} twice"
        out[name] = desc.strip()
    return out


def suggested_line(name, path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or "(no docstring)"
    return f"{name:<37} {' '.join(doc.split(chr(10) + chr(10))[0].split())[:70]}"


def test_architecture_lists_exactly_the_modules_of_the_tree():
    listed, tree = package_map(), tree_modules()
    missing = [suggested_line(n, p) for n, p in tree.items() if n not in listed]
    extra = sorted(set(listed) - set(tree))
    assert not missing and not extra, ("docs/architecture.md's package map is not the tree.\n"
                                       + ("add:\n" + "\n".join(missing) + "\n" if missing else "")
                                       + ("remove: " + ", ".join(extra) if extra else ""))
    assert all(listed.values()), [n for n, d in listed.items() if not d]
