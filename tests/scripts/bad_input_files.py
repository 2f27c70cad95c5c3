"""Recipes of the bad-input corpus's file cases (files/cases.tsv names them):
each makes one hostile file from well-formed material (the schema corpus's
root CA certificate and CRL, a CSR made with openssl) and returns its path.
Files are made at run time so the repository holds no binary junk."""

import base64
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD = os.path.join(ROOT, "tests", "schema", "corpus", "files")


def _read(name):
    with open(os.path.join(GOOD, name), "rb") as f:
        return f.read()


def _pem(label, der, width=64):
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + width] for i in range(0, len(b64), width)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def _der_of(pem):
    body = re.search(rb"-----BEGIN [^-]+-----(.*?)-----END", pem, re.S).group(1)
    return base64.b64decode(b"".join(body.split()))


def _ber_indefinite(der):
    """The outer SEQUENCE re-encoded with an indefinite length (valid BER,
    not DER)."""
    assert der[0] == 0x30 and der[1] == 0x82
    return b"\x30\x80" + der[4:] + b"\x00\x00"


def _ber_long_length(der):
    """The outer length in three bytes where two suffice (BER, not DER)."""
    assert der[0] == 0x30 and der[1] == 0x82
    return b"\x30\x83\x00" + der[2:]


class Material:
    def __init__(self, work):
        self.work = work
        self.cert_pem = _read("root.pem")
        self.cert_der = _read("root.der")
        self.crl_pem = _read("manual-crl.pem")
        self.crl_der = _read("manual-crl.der")
        self.crl_der_long = _der_of(self.crl_pem)

    def csr_pem(self):
        # The key goes to /dev/null: no private key is ever written.
        r = subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null",
                            "-subj", "/CN=corpus.example.com"], capture_output=True)
        if r.returncode != 0:
            raise SystemExit(f"bad_input: openssl req failed: {r.stderr.decode(errors='replace')}")
        return r.stdout

    def write(self, path, what):
        data = getattr(self, what)
        with open(path, "wb") as f:
            f.write(data)
        return path


def _put(path, data, ext=".pem"):
    path += ext
    with open(path, "wb") as f:
        f.write(data)
    return path


def _pem_cert_ber(m, derf):
    return _pem("CERTIFICATE", derf(m.cert_der))


# --- certificates (trusted CAs, CA bundles) --------------------------------
def empty(m, p): return _put(p, b"")
def only_newlines(m, p): return _put(p, b"\n\n\n")
def cert_truncated_pem(m, p): return _put(p, m.cert_pem[: len(m.cert_pem) // 2])
def cert_no_end_line(m, p): return _put(p, m.cert_pem.replace(b"-----END CERTIFICATE-----\n", b""))
def cert_no_begin_line(m, p): return _put(p, m.cert_pem.replace(b"-----BEGIN CERTIFICATE-----\n", b""))
def cert_label_crl(m, p): return _put(p, m.cert_pem.replace(b"CERTIFICATE", b"X509 CRL"))
def cert_label_unknown(m, p): return _put(p, m.cert_pem.replace(b"CERTIFICATE", b"EDGECERT THING"))
def cert_label_mismatch(m, p): return _put(p, m.cert_pem.replace(b"END CERTIFICATE", b"END X509 CRL"))
def cert_bad_base64(m, p): return _put(p, m.cert_pem.replace(b"MIIB", b"M!!B", 1))
def cert_base64_bitflip(m, p):
    der = bytearray(m.cert_der)
    der[len(der) // 2] ^= 0xFF
    return _put(p, _pem("CERTIFICATE", bytes(der)))
def cert_pem_ber_indefinite(m, p): return _put(p, _pem_cert_ber(m, _ber_indefinite))
def cert_pem_ber_long_length(m, p): return _put(p, _pem_cert_ber(m, _ber_long_length))
def cert_der_ber_indefinite(m, p): return _put(p, _ber_indefinite(m.cert_der), ".der")
def cert_der_ber_long_length(m, p): return _put(p, _ber_long_length(m.cert_der), ".der")
def cert_der_truncated(m, p): return _put(p, m.cert_der[:-10], ".der")
def cert_der_trailing(m, p): return _put(p, m.cert_der + b"\x00\x01trailing", ".der")
def cert_der_garbage(m, p): return _put(p, bytes((i * 37 + 11) % 256 for i in range(700)), ".der")
def cert_der_length_huge(m, p): return _put(p, b"\x30\x84\x7f\xff\xff\xff" + m.cert_der[4:], ".der")
def cert_pem_empty_body(m, p): return _put(p, b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
def cert_then_garbage(m, p): return _put(p, m.cert_pem + b"\xff\xfe garbage \x00\x01\n")
def cert_non_utf8(m, p): return _put(p, b"\xff\xfe\xfd not utf-8 \xc3\x28\n")
def cert_utf16(m, p): return _put(p, b"\xff\xfe" + m.cert_pem.decode().encode("utf-16-le"))
def cert_nul_bytes(m, p): return _put(p, m.cert_pem.replace(b"\n", b"\n\x00", 3))
def cert_huge_line(m, p): return _put(p, b"A" * (4 * 1024 * 1024) + b"\n")
def cert_huge_file(m, p): return _put(p, m.cert_pem * 40000)
def cert_is_crl(m, p): return _put(p, m.crl_pem)
def cert_is_csr(m, p): return _put(p, m.csr_pem())
def cert_html(m, p): return _put(p, b"<!DOCTYPE html><html><body>Sign in</body></html>\n")
def folder(m, p):
    os.mkdir(p)
    return p
def missing(m, p): return p + ".pem"
def dev_zero(m, p):
    os.symlink("/dev/zero", p)
    return p
def symlink_loop(m, p):
    os.symlink(os.path.basename(p), p)
    return p


# --- CRLs (manualFile) ----------------------------------------------------
def crl_truncated_pem(m, p): return _put(p, m.crl_pem[: len(m.crl_pem) // 2])
def crl_trailing_der(m, p): return _put(p, m.crl_der + b"\x00\x00junk", ".der")
def crl_two_der(m, p): return _put(p, m.crl_der + m.crl_der, ".der")
def crl_two_pem(m, p): return _put(p, m.crl_pem + m.crl_pem)
def crl_label_cert(m, p): return _put(p, m.crl_pem.replace(b"X509 CRL", b"CERTIFICATE"))
def crl_der_truncated(m, p): return _put(p, m.crl_der[:-20], ".der")
def crl_ber_indefinite(m, p): return _put(p, _ber_indefinite(m.crl_der), ".der") if m.crl_der[1] == 0x82 else _put(p, b"\x30\x80" + m.crl_der[3:] + b"\x00\x00", ".der")
def crl_der_bitflip(m, p):
    der = bytearray(m.crl_der)
    der[len(der) // 3] ^= 0x55
    return _put(p, bytes(der), ".der")
def crl_is_cert(m, p): return _put(p, m.cert_pem)
def crl_garbage(m, p): return _put(p, bytes((i * 91 + 7) % 256 for i in range(300)), ".der")
def crl_huge(m, p): return _put(p, b"\x30\x84\x01\x40\x00\x00" + b"\x00" * (20 * 1024 * 1024), ".der")
def crl_gzip_bomb(m, p):
    import gzip
    return _put(p, gzip.compress(b"\x00" * (64 * 1024 * 1024)), ".gz")
def crl_html(m, p): return _put(p, b"<html><body>404 Not Found</body></html>\n")


# --- password files ---------------------------------------------------------
def password_empty(m, p): return _put(p, b"", ".txt")
def password_newline(m, p): return _put(p, b"\n", ".txt")
def password_non_utf8(m, p): return _put(p, b"\xff\xfecorpus\n", ".txt")
def password_nul(m, p): return _put(p, b"corpus\x00Pa55word\n", ".txt")
def password_huge(m, p): return _put(p, b"x" * (8 * 1024 * 1024), ".txt")
def password_two_lines(m, p): return _put(p, b"corpus-Pa55word\nsecond line\n", ".txt")
