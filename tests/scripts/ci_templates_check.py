#!/usr/bin/env python3
"""Checks the CI templates in examples/ci against the real edgecert binary.

Usage: ci_templates_check.py EDGECERT FILE...

For each file (a GitHub Actions workflow, a .gitlab-ci.yml, or Kubernetes
CronJobs, told apart by their keys) it checks the shape the docs promise
(triggers, the apply job behind an environment, the nightly check; for a
fleet, shards that cover 1..N) and every edgecert command line in its shell
steps: the subcommand must be one `edgecert --help` lists and every option
one `edgecert SUBCOMMAND --help` lists. Each problem is printed as
"FILE: JOB: problem"; exit 1 when there is any.
"""
import re
import shlex
import subprocess
import sys

import yaml

OPERATORS = {";", "&&", "||", "|", "&", "(", ")", "{", "}", "!"}
REQUIRED = {"validate", "plan", "show", "approve", "apply", "check"}
# A fleet applies specs shard by shard; saved plans and approvals are the
# one-cluster workflow's.
REQUIRED_FLEET = {"validate", "plan", "apply", "check"}


def help_text(edgecert, *args):
    return subprocess.run([edgecert, *args, "--help"], capture_output=True, text=True,
                          check=False).stdout


def subcommands(edgecert):
    text = help_text(edgecert)
    part = text.split("Subcommands:", 1)[1] if "Subcommands:" in text else ""
    return {line.split()[0] for line in part.splitlines() if line.strip()}


def command_lines(script):
    """Logical shell lines: continuations joined."""
    return script.replace("\\\n", " ").splitlines()


def edgecert_calls(line):
    """Each edgecert invocation on a shell line, as its list of words."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|(){}<>")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError as e:
        raise ValueError(f"cannot split '{line}': {e}") from e
    calls, current = [], None
    for w in words:
        if w in OPERATORS or set(w) <= set(";&|(){}"):
            current = None
            continue
        if current is None and w.rsplit("/", 1)[-1] == "edgecert":
            current = []
            calls.append(current)
            continue
        if current is not None:
            current.append(w)
    return calls


def check_calls(edgecert, where, scripts, known, problems, used):
    helps = {}
    for script in scripts:
        for line in command_lines(script):
            try:
                calls = edgecert_calls(line)
            except ValueError as e:
                problems.append(f"{where}: {e}")
                continue
            for words in calls:
                if not words:
                    problems.append(f"{where}: 'edgecert' without a subcommand: {line.strip()}")
                    continue
                sub = words[0]
                if sub not in known:
                    problems.append(f"{where}: 'edgecert {sub}' is not an edgecert command")
                    continue
                used.add(sub)
                text = helps.setdefault(sub, help_text(edgecert, sub))
                skip_redirect = False
                for w in words[1:]:
                    if skip_redirect:
                        skip_redirect = False
                        continue
                    if w in (">", ">>", "<", "2>"):
                        skip_redirect = True
                        continue
                    if not w.startswith("-"):
                        continue
                    flag = w.split("=", 1)[0]
                    if not re.search(r"(^|[\s,])" + re.escape(flag) + r"(\b|\s|,|$)", text,
                                     re.M):
                        problems.append(f"{where}: 'edgecert {sub}' has no option {flag}")


def check_github(path, doc, edgecert, known, problems, used):
    triggers = doc.get("on", doc.get(True))
    if not isinstance(triggers, dict):
        problems.append(f"{path}: no 'on' triggers")
        return
    for t in ("pull_request", "push", "schedule"):
        if t not in triggers:
            problems.append(f"{path}: not triggered by {t}")
    jobs = doc.get("jobs") or {}
    if not any(isinstance(j, dict) and j.get("environment") for j in jobs.values()):
        problems.append(f"{path}: no job runs behind an environment (the approval gate)")
    for name, job in jobs.items():
        if "runs-on" not in job:
            problems.append(f"{path}: {name}: no runs-on")
        scripts = []
        for step in job.get("steps", []):
            if "run" not in step and "uses" not in step:
                problems.append(f"{path}: {name}: a step with neither run nor uses")
            if "run" in step:
                scripts.append(step["run"])
        check_calls(edgecert, f"{path}: {name}", scripts, known, problems, used)


def check_gitlab(path, doc, edgecert, known, problems, used):
    stages = doc.get("stages") or []
    reserved = {"stages", "variables", "default", "include", "workflow"}
    jobs = {k: v for k, v in doc.items() if k not in reserved and isinstance(v, dict)}
    sources = set()
    for name, job in jobs.items():
        if job.get("stage") not in stages:
            problems.append(f"{path}: {name}: stage {job.get('stage')!r} is not in stages")
        if "script" not in job:
            problems.append(f"{path}: {name}: no script")
        for rule in job.get("rules", []):
            sources.update(re.findall(r'"(merge_request_event|push|schedule)"', rule.get("if", "")))
        check_calls(edgecert, f"{path}: {name}", job.get("script", []), known, problems, used)
    for s in ("merge_request_event", "push", "schedule"):
        if s not in sources:
            problems.append(f"{path}: no job runs on {s} pipelines")
    if not any(j.get("environment") and any(r.get("when") == "manual" for r in j.get("rules", []))
               for j in jobs.values()):
        problems.append(f"{path}: no manual job in an environment (the approval gate)")


def check_shards(path, text, problems):
    """Every --shard K/N in a fleet file: one N, and K covering 1..N (a
    matrix variable counts as covering them when its values do)."""
    literal = re.findall(r"--shard\s+\"?(\d+)/(\d+)", text)
    matrix = re.findall(r"--shard\s+\"?\$\{\{\s*matrix\.(\w+)\s*\}\}/(\d+)", text)
    if not literal and not matrix:
        problems.append(f"{path}: a fleet file that never passes --shard")
        return
    counts = {int(n) for _, n in literal} | {int(n) for _, n in matrix}
    if len(counts) != 1:
        problems.append(f"{path}: --shard with different N: {sorted(counts)}")
        return
    n = counts.pop()
    if literal and {int(k) for k, _ in literal} != set(range(1, n + 1)):
        problems.append(f"{path}: shards {sorted({int(k) for k, _ in literal})} do not cover 1..{n}")
    for var, _ in matrix:
        values = set(re.findall(r"\b" + var + r":\s*\[([^\]]*)\]", text))
        for v in values:
            if {int(x) for x in re.findall(r"\d+", v)} != set(range(1, n + 1)):
                problems.append(f"{path}: matrix.{var} [{v}] does not cover 1..{n}")


def check_kubernetes(path, docs, edgecert, known, problems, used):
    for doc in docs:
        name = (doc.get("metadata") or {}).get("name", "?")
        if doc.get("kind") != "CronJob":
            problems.append(f"{path}: {name}: a {doc.get('kind')}, expected CronJobs")
            continue
        spec = doc.get("spec") or {}
        if spec.get("concurrencyPolicy") != "Forbid":
            problems.append(f"{path}: {name}: concurrencyPolicy is not Forbid (runs would overlap)")
        pod = spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec", {})
        scripts = []
        for c in pod.get("containers", []):
            words = list(c.get("command", [])) + list(c.get("args", []))
            if words[:2] == ["/bin/sh", "-c"]:
                scripts.extend(words[2:])
            else:
                scripts.append(" ".join(shlex.quote(w) for w in words))
        check_calls(edgecert, f"{path}: {name}", scripts, known, problems, used)


def main():
    edgecert, files = sys.argv[1], sys.argv[2:]
    known = subcommands(edgecert)
    if not known:
        print(f"{edgecert} --help lists no subcommands")
        return 1
    problems = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        docs = [d for d in yaml.safe_load_all(text) if d]
        doc = docs[0]
        used = set()
        kubernetes = all("kind" in d for d in docs)
        # A fleet file splits the work into shards; CronJobs always do.
        fleet = kubernetes or "--shard" in text
        if fleet:
            check_shards(path, text, problems)
        if kubernetes:
            check_kubernetes(path, docs, edgecert, known, problems, used)
        elif "jobs" in doc:
            check_github(path, doc, edgecert, known, problems, used)
        elif "stages" in doc:
            check_gitlab(path, doc, edgecert, known, problems, used)
        else:
            problems.append(f"{path}: neither a GitHub Actions workflow nor a .gitlab-ci.yml")
        for missing in sorted((REQUIRED_FLEET if fleet else REQUIRED) - used):
            problems.append(f"{path}: never runs 'edgecert {missing}'")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
