#!/usr/bin/env python3
"""The bad-input corpus (tests/corpus/bad-input, its README says what is
there) run against the real edgecert, one process per case.

Usage: bad_input_runner.py PATH/TO/edgecert [NAME-SUBSTRING...]
       (BAD_INPUT_SHOW=1: print what edgecert said for every case run)

Every case must: exit 1; print its expected text (which names where: spec
file:line:col, saved-plan action and field, node/interface/operation); finish
within 20 s (a timeout kill is a failure); stay within RLIMIT_AS 1 GiB and a
peak RSS of 400 MB (wait4); print at most 64 KB; change no simulated node;
leave no lock. A case whose `needs` column names a fix being worked on
(files, plan, dates) fails like any other, unless BAD_INPUT_ALLOW_PENDING=1
(for a local run while writing that fix) reports it "pending". Fewer than 100
cases is a failure in itself.
"""

import hashlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "tests", "corpus", "bad-input")
MIN_CASES = 100
TIME_LIMIT = 20.0
AS_LIMIT = 1 << 30
RSS_LIMIT_KB = 400 * 1000
OUTPUT_LIMIT = 64 * 1024
PENDING_KINDS = {"files", "plan", "dates"}


class Case:
    def __init__(self, group, name, expected, needs):
        self.group, self.name, self.expected, self.needs = group, name, expected, needs.strip()

    @property
    def label(self):
        return f"{self.group}/{self.name}"


def read_tsv(path, columns):
    """Rows of a tab-separated file; '#' lines and blank lines skipped.
    Missing trailing columns are empty; `\\t` and `\\n` in a cell unescape."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) > columns:
                raise SystemExit(f"{path}:{lineno}: more than {columns} columns")
            cells += [""] * (columns - len(cells))
            rows.append([c.replace("\\t", "\t").replace("\\n", "\n") for c in cells])
    return rows


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run_limited(argv, cwd, env=None):
    """Runs argv with the corpus limits; returns (rc, output bytes, seconds,
    peak RSS KB, why-killed or None)."""
    out = tempfile.TemporaryFile()
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, preexec_fn=limit_memory,
                            env=env, start_new_session=True)
    killed = None
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() - start > TIME_LIMIT:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            killed = f"killed after {TIME_LIMIT:.0f} s"
            break
        time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    out.seek(0)
    data = out.read(OUTPUT_LIMIT + 1)
    out.seek(0, os.SEEK_END)
    size = out.tell()
    out.close()
    return proc.returncode, data, size, seconds, usage.ru_maxrss, killed


def tree_digest(folder, skip_suffixes=(".lock",)):
    """SHA-256 of every file below folder (names and bytes), lock files left
    out: what the simulated nodes hold."""
    h = hashlib.sha256()
    if not os.path.isdir(folder):
        return "absent"
    for dirpath, dirnames, filenames in sorted(os.walk(folder)):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(skip_suffixes):
                continue
            path = os.path.join(dirpath, name)
            h.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def locks_left(state):
    left = []
    for dirpath, _, filenames in os.walk(state):
        left += [os.path.join(dirpath, n) for n in filenames if n == "lock.json"]
    return left


class Runner:
    def __init__(self, edgecert, work):
        self.edgecert = edgecert
        self.sim_bin = os.path.join(os.path.dirname(edgecert), "edgecert-sim")
        self.work = work
        self.sim = os.path.join(work, "sim")
        self.state = os.path.join(work, "state")
        self.results = []  # (case, verdict, why)
        self.output_dir = os.environ.get("EDGECERT_TEST_OUTPUT_DIR")

    def ec(self, args, cwd=None):
        """edgecert ARGS with the run's simulated nodes and state folder
        (`validate` takes neither: it reads only the spec and its files)."""
        if args and args[0] == "validate":
            return [self.edgecert] + args
        return [self.edgecert] + args + ["--sim-dir", self.sim, "--state-dir", self.state]

    def check(self, case, argv, cwd, watched=None, env=None):
        """Runs one case and records its verdict. watched: folders whose
        content must not change (the simulated nodes)."""
        before = {w: tree_digest(w) for w in (watched or [])}
        # Copies to put back after a case that changed something, so that
        # one bad case does not make the next ones see a changed node.
        backups = {}
        for w in list(watched or []) + [self.state]:
            if os.path.isdir(w):
                backups[w] = os.path.join(self.work, "backup", str(len(backups)))
                shutil.rmtree(backups[w], ignore_errors=True)
                shutil.copytree(w, backups[w], symlinks=True)
        rc, data, size, seconds, rss_kb, killed = run_limited(argv, cwd, env)
        text = data.decode("utf-8", "replace")
        if self.output_dir:
            # Kept for the secrets scan (tests/scripts/secrets_scan.py).
            safe = case.label.replace("/", "__")
            with open(os.path.join(self.output_dir, f"bad-input.{safe}.out"), "wb") as f:
                f.write(data)
        problems = []
        if killed:
            problems.append(killed)
        elif rc != 1:
            problems.append(f"exit {rc}, expected 1")
        if size > OUTPUT_LIMIT:
            problems.append(f"{size} bytes of output (limit {OUTPUT_LIMIT})")
        if rss_kb > RSS_LIMIT_KB:
            problems.append(f"peak RSS {rss_kb // 1000} MB (limit {RSS_LIMIT_KB // 1000} MB)")
        if os.environ.get("BAD_INPUT_SHOW"):
            # For whoever adds a case: what edgecert said, to pick the
            # expected text from.
            shown = " | ".join(text.strip().splitlines()[:4])[:600]
            print(f"show: {case.label}: exit {rc}, {seconds:.1f}s: {shown}", flush=True)
        if not case.expected:
            problems.append("the case has no expected text")
        elif case.expected not in text:
            first = text.strip().splitlines()[:3]
            problems.append(f"output lacks {case.expected!r}; it says: {' | '.join(first)[:400]!r}")
        for w, digest in before.items():
            if tree_digest(w) != digest:
                problems.append(f"{os.path.basename(w)} changed")
        left = locks_left(self.state)
        if left:
            problems.append(f"lock left: {left[0]}")
        for w, b in backups.items():
            if problems:
                shutil.rmtree(w, ignore_errors=True)
                shutil.copytree(b, w, symlinks=True)
            shutil.rmtree(b, ignore_errors=True)
        self.record(case, problems, f"{seconds:.1f}s")

    def record(self, case, problems, note=""):
        if not problems:
            self.results.append((case, "pass", note))
        elif case.needs in PENDING_KINDS and os.environ.get("BAD_INPUT_ALLOW_PENDING"):
            self.results.append((case, "pending", f"needs {case.needs}: " + "; ".join(problems)))
        else:
            if case.needs and case.needs not in PENDING_KINDS:
                problems.append(f"unknown needs '{case.needs}'")
            self.results.append((case, "FAIL", "; ".join(problems)))


def main():
    if len(sys.argv) < 2:
        print("usage: bad_input_runner.py PATH/TO/edgecert [NAME-SUBSTRING...]", file=sys.stderr)
        return 2
    edgecert = os.path.abspath(sys.argv[1])
    only = sys.argv[2:]
    sys.path.insert(0, HERE)
    import bad_input_groups as groups  # noqa: E402  (next to this file)

    keep = os.environ.get("EDGECERT_KEEP_TEST_FILES")
    work = tempfile.mkdtemp(prefix="edgecert-bad-input.", dir=os.environ.get("TMPDIR"))
    runner = Runner(edgecert, work)
    total_cases = 0
    try:
        all_groups = [groups.SpecGroup(), groups.FileGroup(), groups.PlanGroup(), groups.ReplyGroup()]
        for g in all_groups:
            g.load(CORPUS)
            total_cases += len(g.cases)
        print(f"bad_input: {total_cases} cases", flush=True)
        for g in all_groups:
            selected = [c for c in g.cases if not only or any(o in c.label for o in only)]
            if selected:
                g.run(runner, selected)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

    counts = {"pass": 0, "pending": 0, "FAIL": 0}
    for case, verdict, why in runner.results:
        counts[verdict] += 1
        if verdict != "pass":
            print(f"{verdict}: {case.label}: {why}")
    print(f"bad_input: {counts['pass']} passed, {counts['FAIL']} failed, "
          f"{counts['pending']} pending (of {total_cases} cases)")
    if total_cases < MIN_CASES:
        print(f"bad_input: FAIL: the corpus has {total_cases} cases; it must keep at least {MIN_CASES}")
        return 1
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
