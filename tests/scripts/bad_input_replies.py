"""The bad-input corpus's reply cases: one edgecert-sim node behind the
lying node (lying_node.py), an https:// spec pointing at the lying node;
per case the lying node's rules are rewritten and edgecert run once."""

import json
import os
import signal
import subprocess
import time

from bad_input_groups import make_ca, must

HERE = os.path.dirname(os.path.abspath(__file__))


def _start(argv, cwd, ready, name):
    out = open(os.path.join(cwd, f"{name}.out"), "w")
    proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(os.path.join(cwd, f"{name}.out")) as f:
            text = f.read()
        if ready in text:
            return proc, text
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"bad_input: {name} did not start: {text}")


def _stop(proc):
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(runner, doc, cases):
    folder = os.path.join(runner.work, "reply")
    make_ca(runner, folder)
    with open(os.path.join(folder, "password"), "w") as f:
        f.write("corpus-reply-Pa55word\n")
    os.chmod(os.path.join(folder, "password"), 0o600)
    # The lying node's own certificate for edge1.example.com, from the corpus
    # CA (its key is a test file, allow-listed for the secrets scan).
    must(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", "lying-node-key.pem", "-out", "lying-node.csr",
          "-subj", "/CN=edge1.example.com"], folder, "openssl req")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:edge1.example.com\nextendedKeyUsage=serverAuth\n")
    must(["openssl", "x509", "-req", "-in", "lying-node.csr", "-CA", "ca/cacert.pem",
          "-CAkey", "ca/private/cakey.pem", "-CAcreateserial", "-days", "30",
          "-extfile", "san.ext", "-out", "lying-node-cert.pem"], folder, "openssl x509")
    simstate = os.path.join(folder, "simstate")
    sim = lie = None
    try:
        sim, text = _start([runner.sim_bin, "--state", simstate, "--password-file", "password",
                            "--node", "edge1=127.0.0.1:0", "--fqdn", "edge1=edge1.example.com",
                            "--scheduler-interval", "0"],
                           folder, "edgecert-sim ready", "sim")
        port = next(line.split()[-1].rsplit(":", 1)[1] for line in text.splitlines()
                    if line.startswith("edge1 listening"))
        rules = os.path.join(folder, "rules.json")
        with open(rules, "w") as f:
            json.dump({"rules": []}, f)
        lie, text = _start(["python3", os.path.join(HERE, "lying_node.py"), "--listen", "127.0.0.1:0",
                            "--upstream", f"https://127.0.0.1:{port}", "--cert", "lying-node-cert.pem",
                            "--key", "lying-node-key.pem", "--rules", rules],
                           folder, "lying-node listening", "lying-node")
        lie_port = text.split("listening on ")[1].split()[0].rsplit(":", 1)[1]
        with open(os.path.join(folder, "spec.yaml"), "w") as f:
            f.write(doc["spec"].replace("@PORT@", lie_port))
        # The truth first: without lies the spec reads cleanly.
        r = subprocess.run(runner.ec(["status", "spec.yaml"], folder), cwd=folder, capture_output=True)
        if r.returncode != 0:
            raise SystemExit("bad_input: status through the lying node without lies failed: "
                             + r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))
        for c in cases:
            case = next(x for x in doc["cases"] if x["name"] == c.name)
            with open(rules, "w") as f:
                json.dump({"rules": case["rules"]}, f)
            runner.check(c, runner.ec(case.get("command", ["status"]) + ["spec.yaml"], folder),
                         folder, [simstate, runner.sim])
    finally:
        _stop(lie)
        _stop(sim)
