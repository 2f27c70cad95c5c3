#!/usr/bin/env python3
"""The suite's secrets scan: every file the tests wrote and every output
they captured must be free of private-key PEM and of the test secrets.

Usage: secrets_scan.py [--secrets FILE] [--allow FILE] PATH...

PATH: folders (searched recursively) or files. --secrets (default
tests/support/test-secrets.txt): one secret a line, '#' comments. --allow
(default tests/support/secrets-allow.txt): lines `GLOB<TAB>why` naming files
that legitimately hold a key or a secret (fnmatch against the path relative
to the PATH it was found under; `*` crosses folders); an entry without a why
is an error. A hit prints `file:line: what` (never the secret itself: a
secret is named by its line in the secrets file) and the exit status is 1.
"""

import argparse
import fnmatch
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_MARKER = b"PRIVATE KEY-----"
MAX_HITS_PER_FILE = 5


def read_secrets(path):
    secrets = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not s.strip() or s.startswith("#"):
                continue
            if len(s) < 6:
                raise SystemExit(f"{path}:{lineno}: a secret shorter than 6 characters would match too much")
            secrets.append((lineno, s.encode("utf-8")))
    return secrets


def read_allow(path):
    allow = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not s.strip() or s.startswith("#"):
                continue
            glob, _, why = s.partition("\t")
            if not why.strip():
                raise SystemExit(f"{path}:{lineno}: allow-list entry '{glob}' says no why (GLOB<TAB>why)")
            allow.append(glob.strip())
    return allow


def scan_file(path, shown, secrets, out):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        out.append(f"{shown}: cannot read: {e.strerror}")
        return
    needles = [(KEY_MARKER, "private-key PEM")] + [
        (s, f"test secret (tests/support/test-secrets.txt line {n})") for n, s in secrets]
    hits = 0
    for needle, what in needles:
        start = 0
        while hits < MAX_HITS_PER_FILE:
            i = data.find(needle, start)
            if i < 0:
                break
            line = data.count(b"\n", 0, i) + 1
            out.append(f"{shown}:{line}: {what}")
            hits += 1
            start = i + len(needle)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--secrets", default=os.path.join(ROOT, "tests", "support", "test-secrets.txt"))
    p.add_argument("--allow", default=os.path.join(ROOT, "tests", "support", "secrets-allow.txt"))
    p.add_argument("paths", nargs="+")
    a = p.parse_args()
    secrets = read_secrets(a.secrets)
    allow = read_allow(a.allow)
    hits, files, allowed = [], 0, 0
    for top in a.paths:
        if os.path.isfile(top):
            candidates = [(top, os.path.basename(top))]
        elif os.path.isdir(top):
            candidates = []
            for dirpath, _, names in os.walk(top):
                for n in names:
                    full = os.path.join(dirpath, n)
                    candidates.append((full, os.path.relpath(full, top)))
        else:
            continue  # nothing written there: nothing to scan
        for full, rel in candidates:
            if os.path.islink(full) or not os.path.isfile(full):
                continue
            # "/" + rel too: "*/ca/private/cakey.pem" also matches right
            # at the top of the scanned folder.
            if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch("/" + rel, g) for g in allow):
                allowed += 1
                continue
            files += 1
            scan_file(full, full, secrets, hits)
    for h in hits:
        print(f"secrets_scan: {h}")
    print(f"secrets_scan: {files} files scanned, {allowed} allow-listed, {len(hits)} hits")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main())
