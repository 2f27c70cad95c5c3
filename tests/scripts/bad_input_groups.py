"""The four groups of the bad-input corpus (bad_input_runner.py runs them):
how each group's cases are read from tests/corpus/bad-input and which
edgecert command each one runs."""

import glob
import json
import os
import shutil
import subprocess

from bad_input_runner import Case, read_tsv

# The spec every file, plan and reply case starts from: two sim:// peers
# (or https:// through the lying node), an openssl-ca issuer in ca/.
BASE_SPEC = """apiVersion: edgecert/v1
kind: ExpresswayCluster
metadata:
  name: corpus
spec:
  product: expressway-e
  clusterFqdn: edge.example.com
  peers:
    - name: edge1
      fqdn: edge1.example.com
      endpoint: sim://edge1
    - name: edge2
      fqdn: edge2.example.com
      endpoint: sim://edge2
  serverCertificate:
    key: {algorithm: ecdsa, size: 256}
    roles: [b2b]
    issuer: {type: openssl-ca, directory: ca/}
"""


def must(argv, cwd, what):
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode != 0:
        raise SystemExit(f"bad_input: set-up failed: {what}: {r.stdout.decode(errors='replace')}"
                         f"{r.stderr.decode(errors='replace')}")
    return r.stdout


def drop_if_big(path, limit=1 << 20):
    """Removes a generated junk file over 1 MiB once its case ran: it holds
    no secret, and the secrets scan need not read megabytes of filler."""
    try:
        if os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) > limit:
            os.unlink(path)
    except OSError:
        pass


def make_ca(runner, folder):
    os.makedirs(folder, exist_ok=True)
    if not os.path.isdir(os.path.join(folder, "ca")):
        must([runner.edgecert, "ca", "init", os.path.join(folder, "ca"), "--cn", "Corpus CA",
              "--key", "ecdsa:256"], folder, "edgecert ca init")


class SpecGroup:
    """spec/*.yaml, expectations in spec/expect.tsv (file, expected, needs):
    `edgecert validate FILE` run in a copy of the folder (with a CA in ca/),
    so messages name the file as `FILE:line:col`."""

    def load(self, corpus):
        self.dir = os.path.join(corpus, "spec")
        rows = read_tsv(os.path.join(self.dir, "expect.tsv"), 3)
        listed = {r[0] for r in rows}
        on_disk = {os.path.basename(p) for p in glob.glob(os.path.join(self.dir, "*.yaml"))}
        if listed != on_disk:
            raise SystemExit(f"bad_input: spec/expect.tsv and spec/*.yaml disagree: "
                             f"unlisted {sorted(on_disk - listed)}, missing {sorted(listed - on_disk)}")
        self.cases = [Case("spec", r[0], r[1], r[2]) for r in rows]

    def run(self, runner, cases):
        folder = os.path.join(runner.work, "specs")
        make_ca(runner, folder)
        for c in cases:
            shutil.copyfile(os.path.join(self.dir, c.name), os.path.join(folder, c.name))
            runner.check(c, runner.ec(["validate", c.name], folder), folder, [runner.sim])
            drop_if_big(os.path.join(folder, c.name))


# Where a file case's file goes, as a line appended to BASE_SPEC (@ is the
# file's path); the expected text names the spec line the field is on.
FILE_FIELDS = {
    "trusted": "  trustedCAs:\n    certificates: [@]\n",
    "crl": "  crl:\n    manualFile: @\n",
    "crlbundle": "  crl:\n    caBundle: @\n    automaticUpdates: {enabled: true, distributionPoints: [https://crl.example.com/a.crl]}\n",
    "cabundle": "  access: {username: admin, passwordFrom: \"env:CORPUS_PASSWORD\", caBundle: @}\n",
    "password": "  access: {username: admin, passwordFrom: \"file:@\"}\n",
}


class FileGroup:
    """files/cases.tsv (name, field, recipe, expected, needs): the recipe
    (bad_input_files.py) makes a file, the field places it in the base spec,
    `edgecert validate` must refuse it naming the spec line and the file."""

    def load(self, corpus):
        self.dir = os.path.join(corpus, "files")
        self.rows = read_tsv(os.path.join(self.dir, "cases.tsv"), 5)
        self.cases = []
        import bad_input_files
        for r in self.rows:
            if r[1] not in FILE_FIELDS:
                raise SystemExit(f"bad_input: files/cases.tsv: {r[0]}: unknown field {r[1]}")
            if not hasattr(bad_input_files, r[2].replace("-", "_")):
                raise SystemExit(f"bad_input: files/cases.tsv: {r[0]}: unknown recipe {r[2]}")
            self.cases.append(Case("files", r[0], r[3], r[4]))
        self.by_name = {r[0]: r for r in self.rows}

    def run(self, runner, cases):
        import bad_input_files
        folder = os.path.join(runner.work, "files")
        make_ca(runner, folder)
        base = bad_input_files.Material(runner.work)
        for c in cases:
            _, field, recipe, _, _ = self.by_name[c.name]
            path = getattr(bad_input_files, recipe.replace("-", "_"))(base, os.path.join(folder, c.name))
            spec = f"{c.name}.yaml"
            body = BASE_SPEC
            if field == "cabundle" or field == "password":
                body = body.replace("sim://edge1", "https://edge1.example.com").replace(
                    "sim://edge2", "https://edge2.example.com")
            with open(os.path.join(folder, spec), "w") as f:
                f.write(body + FILE_FIELDS[field].replace("@", os.path.basename(path)))
            env = dict(os.environ, CORPUS_PASSWORD="corpus-Pa55word")
            runner.check(c, runner.ec(["validate", spec], folder), folder, [runner.sim], env)
            drop_if_big(path)


class PlanGroup:
    """plan/cases.tsv (name, jq program, expected, needs): a base plan made
    here (`plan --out`) on two sim:// peers, edited by the jq program; `apply`
    of the edited plan must refuse it, nothing changed, no lock."""

    def load(self, corpus):
        rows = read_tsv(os.path.join(corpus, "plan", "cases.tsv"), 4)
        self.programs = {r[0]: r[1] for r in rows}
        self.cases = [Case("plan", r[0], r[2], r[3]) for r in rows]

    def run(self, runner, cases):
        folder = os.path.join(runner.work, "plan")
        make_ca(runner, folder)
        with open(os.path.join(folder, "spec.yaml"), "w") as f:
            f.write(BASE_SPEC + "  trustedCAs:\n    certificates: [ca/cacert.pem, crl-ca.pem]\n"
                    "  crl:\n    manualFile: crl.pem\n")
        import bad_input_files
        material = bad_input_files.Material(runner.work)
        material.write(os.path.join(folder, "crl.pem"), "crl_pem")
        material.write(os.path.join(folder, "crl-ca.pem"), "cert_pem")
        must(runner.ec(["plan", "spec.yaml", "--out", "plan.json"], folder), folder, "plan --out")
        for c in cases:
            edited = os.path.join(folder, f"{c.name}.json")
            r = subprocess.run(["jq", self.programs[c.name], "plan.json"], cwd=folder,
                               capture_output=True)
            if r.returncode != 0:
                runner.record(c, [f"jq failed: {r.stderr.decode(errors='replace').strip()}"])
                continue
            with open(edited, "wb") as f:
                f.write(r.stdout)
            runner.check(c, runner.ec(["apply", f"{c.name}.json", "--auto-approve"], folder), folder,
                         [runner.sim])
            drop_if_big(edited)


class ReplyGroup:
    """reply/cases.json: a lying node (lying_node.py) in front of an
    edgecert-sim node rewrites chosen replies; `edgecert status`/`plan` on an
    https:// spec must refuse what it reads naming node, interface and
    operation."""

    def load(self, corpus):
        with open(os.path.join(corpus, "reply", "cases.json"), encoding="utf-8") as f:
            self.doc = json.load(f)
        self.cases = [Case("reply", c["name"], c["expect"], c.get("needs", ""))
                      for c in self.doc["cases"]]

    def run(self, runner, cases):
        import bad_input_replies
        bad_input_replies.run(runner, self.doc, cases)
