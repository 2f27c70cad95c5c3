#!/usr/bin/env python3
"""Checks the CI templates in examples/ci against the real edgecert binary.

Usage: ci_templates_check.py EDGECERT FILE...

For each file (GitHub Actions workflow or .gitlab-ci.yml, told apart by
their keys) it checks the shape the docs promise (triggers, the apply job
behind an environment, the nightly check) and every edgecert command line in
its shell steps: the subcommand must be one `edgecert --help` lists and every
option one `edgecert SUBCOMMAND --help` lists. Each problem is printed as
"FILE: JOB: problem"; exit 1 when there is any.
"""
import re
import shlex
import subprocess
import sys

import yaml

OPERATORS = {";", "&&", "||", "|", "&", "(", ")", "{", "}", "!"}
REQUIRED = {"validate", "plan", "show", "approve", "apply", "check"}


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


def main():
    edgecert, files = sys.argv[1], sys.argv[2:]
    known = subcommands(edgecert)
    if not known:
        print(f"{edgecert} --help lists no subcommands")
        return 1
    problems = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
        used = set()
        if "jobs" in doc:
            check_github(path, doc, edgecert, known, problems, used)
        elif "stages" in doc:
            check_gitlab(path, doc, edgecert, known, problems, used)
        else:
            problems.append(f"{path}: neither a GitHub Actions workflow nor a .gitlab-ci.yml")
        for missing in sorted(REQUIRED - used):
            problems.append(f"{path}: never runs 'edgecert {missing}'")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
