#include "providers/issuers/openssl_ca.h"

#include <fmt/core.h>

#include <cstdlib>
#include <mutex>
#include <sstream>

#include "providers/base/time.h"
#include "providers/pki/crl.h"
#include "providers/pki/csr.h"
#include "providers/pki/key.h"
#include "providers/pki/signer.h"

namespace edgecert::issuer {
namespace {

using namespace std::chrono_literals;

struct Paths {
  std::string dir;
  std::string cacert() const { return path_join(dir, "cacert.pem"); }
  std::string cakey() const { return path_join(dir, "private/cakey.pem"); }
  std::string serial() const { return path_join(dir, "serial"); }
  std::string index() const { return path_join(dir, "index.txt"); }
  std::string index_attr() const { return path_join(dir, "index.txt.attr"); }
  std::string crlnumber() const { return path_join(dir, "crlnumber"); }
  std::string crl() const { return path_join(dir, "crl.pem"); }
  std::string newcert(const std::string& serial) const {
    return path_join(dir, "newcerts/" + serial + ".pem");
  }
  std::string lock() const { return path_join(dir, ".edgecert-ca.lock"); }
};

// Adds one to an upper-case hex number of any length.
std::string hex_increment(std::string hex) {
  for (size_t i = hex.size(); i-- > 0;) {
    char& c = hex[i];
    if (c == 'F' || c == 'f') {
      c = '0';
      continue;
    }
    c = c == '9' ? 'A' : static_cast<char>(c + 1);
    return hex;
  }
  return "1" + hex;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Every peer's certificate carries the cluster FQDN as its subject, so the
// database must allow one subject many times: without this attribute file
// `openssl ca` assumes unique_subject = yes and refuses the folder ("TXT_DB
// error number 2").
constexpr const char* kIndexAttr = "unique_subject = no\n";

Status ensure_index_attr(Env& env, const Paths& p) {
  if (env.exists(p.index_attr())) return {};  // the operator's own choice stays
  return env.write_file_atomic(p.index_attr(), kIndexAttr, 0644);
}

std::string oneline_subject(const pki::Certificate& c) {
  std::string out;
  for (const auto& a : c.subject_attributes()) out += "/" + a.short_name + "=" + a.value;
  return out.empty() ? "/" : out;
}

struct IndexLine {
  std::string status;  // V, R, E
  std::string expiry;
  std::string revocation;  // "YYMMDDHHMMSSZ,reason" for R
  std::string serial;
  std::string file = "unknown";
  std::string subject;
};

std::vector<IndexLine> parse_index(const std::string& text) {
  std::vector<IndexLine> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    f.resize(6);
    out.push_back({f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return out;
}

std::string format_index(const std::vector<IndexLine>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += fmt::format("{}\t{}\t{}\t{}\t{}\t{}\n", l.status, l.expiry, l.revocation, l.serial,
                       l.file, l.subject);
  return out;
}

// Serialises writers of one CA directory (two clusters, or two signing
// threads, may share a CA). An OS advisory lock: a signer killed mid-write
// releases it by dying, so no stale lock can block the next run.
class DirLock {
 public:
  // A signature takes milliseconds; a holder this slow is another signer
  // stuck on something (a hung NFS mount), which the operator must look at.
  static constexpr auto kWait = std::chrono::seconds(10);

  static Result<DirLock> take(Env& env, const std::string& path) {
    auto deadline = env.now() + kWait;
    for (;;) {
      auto held = env.lock_file(path);
      if (held) return DirLock(std::move(*held));
      if (held.error().code != ErrorCode::kConflict) return std::unexpected(held.error());
      if (env.now() >= deadline) break;
      env.sleep_for(50ms);
    }
    return make_error(ErrorCode::kConflict,
                      fmt::format("{}: the CA is busy: another edgecert process has been signing "
                                  "with this CA for {} s (look for it with 'fuser {}')",
                                  path, kWait.count(), path));
  }

 private:
  explicit DirLock(std::unique_ptr<FileLock> held) : held_(std::move(held)) {}
  std::unique_ptr<FileLock> held_;
};

class OpensslCa final : public Issuer {
 public:
  OpensslCa(Env& env, std::string dir, std::chrono::days validity)
      : env_(env), paths_{std::move(dir)}, validity_(validity) {}

  std::string type() const override { return "openssl-ca"; }

  Result<std::vector<pki::Certificate>> ca_certificates() override {
    return pki::load_certificates(env_, paths_.cacert(), read_limits::kCertificate);
  }

  Result<SignOutcome> sign(const SignRequest& request) override {
    // Threads of this process take turns here; the lock file below is for
    // other processes (a thread waiting on it would only spin: signing takes
    // milliseconds of CPU, and a MemoryEnv's clock runs with the waiter's
    // sleeps).
    std::lock_guard turn(mu_);
    auto ctx = [&](const std::string& what) {
      return fmt::format("openssl-ca {}: {}/{}: {}", paths_.dir, request.cluster, request.node,
                         what);
    };
    auto csr = pki::CertificateRequest::parse(request.csr_pem, request.node + ".csr");
    if (!csr) return std::unexpected(csr.error().with_context(ctx("sign")));
    auto cas = ca_certificates();
    if (!cas) return std::unexpected(cas.error());
    auto key_text = env_.read_file(paths_.cakey(), read_limits::kKey);
    if (!key_text) return std::unexpected(key_text.error());
    auto ca_key = pki::PrivateKey::parse(*key_text, paths_.cakey());
    if (!ca_key) return std::unexpected(ca_key.error());
    const pki::Certificate& ca = cas->front();

    auto lock = DirLock::take(env_, paths_.lock());
    if (!lock) return std::unexpected(lock.error());
    // A folder made before edgecert wrote the attribute file gets it now,
    // before a second certificate with the same subject enters the index.
    if (auto st = ensure_index_attr(env_, paths_); !st) return std::unexpected(st.error());
    auto serial_text = env_.read_file(paths_.serial(), read_limits::kState);
    if (!serial_text) return std::unexpected(serial_text.error());
    std::string serial = trim(*serial_text);
    if (serial.empty())
      return make_error(ErrorCode::kCorrupt, paths_.serial() + ": empty serial file");
    // The serial is consumed before signing: a crash afterwards wastes a
    // number but can never issue two certificates with the same serial.
    if (auto st = env_.write_file_atomic(paths_.serial(), hex_increment(serial) + "\n", 0644); !st)
      return std::unexpected(st.error());

    TimePoint now = env_.now();
    pki::IssueOptions opts;
    opts.not_before = now - 5min;  // tolerate nodes whose clocks run a little behind
    opts.not_after = std::min(now + validity_, ca.not_after());
    opts.serial_hex = serial;
    opts.digest = request.digest;
    auto leaf = pki::sign_csr(*csr, ca, *ca_key, opts);
    if (!leaf) return std::unexpected(leaf.error().with_context(ctx("sign")));

    if (auto st = env_.write_file_atomic(paths_.newcert(serial), leaf->to_pem(), 0644); !st)
      return std::unexpected(st.error());
    auto index_text = env_.read_file(paths_.index(), read_limits::kState);
    std::string index = index_text ? *index_text : "";
    index += format_index({{"V", format_openssl_index_time(leaf->not_after()), "", serial,
                            "unknown", oneline_subject(*leaf)}});
    if (auto st = env_.write_file_atomic(paths_.index(), index, 0644); !st)
      return std::unexpected(st.error());

    SignOutcome out;
    out.state = SignState::kIssued;
    out.chain.push_back(*leaf);
    // Intermediates: everything in cacert.pem that is not self-signed.
    for (const auto& c : *cas)
      if (!c.is_self_signed()) out.chain.push_back(c);
    return out;
  }

  Status revoke(const pki::Certificate& certificate, RevocationReason reason) override {
    // Serials are only unique per CA: never mark a row for a certificate
    // another CA (an earlier one, a factory CA) issued.
    auto cas = ca_certificates();
    if (!cas) return std::unexpected(cas.error());
    if (!certificate.is_signed_by(cas->front()))
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("openssl-ca {}: serial {} ('{}') was not issued by this CA "
                                    "(issuer '{}'); nothing revoked",
                                    paths_.dir, certificate.serial_hex(), certificate.subject_cn(),
                                    certificate.issuer_cn()));
    std::lock_guard turn(mu_);
    auto lock = DirLock::take(env_, paths_.lock());
    if (!lock) return std::unexpected(lock.error());
    auto index_text = env_.read_file(paths_.index(), read_limits::kState);
    if (!index_text) return std::unexpected(index_text.error());
    auto lines = parse_index(*index_text);
    std::string serial = certificate.serial_hex();
    bool found = false;
    TimePoint now = env_.now();
    for (auto& l : lines) {
      if (l.serial != serial) continue;
      found = true;
      if (l.status == "R") continue;  // already revoked; the CRL is re-published below
      l.status = "R";
      l.revocation = format_openssl_index_time(now) + "," + revocation_reason_name(reason);
    }
    if (!found)
      return make_error(
          ErrorCode::kNotFound,
          fmt::format("openssl-ca {}: serial {} was not issued by this CA", paths_.dir, serial));
    if (auto st = env_.write_file_atomic(paths_.index(), format_index(lines), 0644); !st) return st;
    return write_crl(lines, now);
  }

 private:
  Status write_crl(const std::vector<IndexLine>& lines, TimePoint now) {
    auto cas = ca_certificates();
    if (!cas) return std::unexpected(cas.error());
    auto key_text = env_.read_file(paths_.cakey(), read_limits::kKey);
    if (!key_text) return std::unexpected(key_text.error());
    auto ca_key = pki::PrivateKey::parse(*key_text, paths_.cakey());
    if (!ca_key) return std::unexpected(ca_key.error());
    auto number_text = env_.read_file(paths_.crlnumber(), read_limits::kState);
    std::string number = number_text ? trim(*number_text) : "1000";
    pki::CrlOptions opts;
    opts.last_update = now;
    opts.next_update = now + std::chrono::days(30);
    opts.number = std::stol(number, nullptr, 16);
    for (const auto& l : lines)
      if (l.status == "R")
        opts.revoked.push_back({l.serial, parse_openssl_index_time(l.revocation)});
    auto crl = pki::Crl::create(cas->front(), *ca_key, opts);
    if (!crl) return std::unexpected(crl.error());
    if (auto st = env_.write_file_atomic(paths_.crlnumber(), hex_increment(number) + "\n", 0644);
        !st)
      return st;
    return env_.write_file_atomic(paths_.crl(), crl->to_pem(), 0644);
  }

  std::mutex mu_;  // one signer (or revoker) of this process at a time
  Env& env_;
  Paths paths_;
  std::chrono::days validity_;
};

}  // namespace

bool openssl_ca_exists(Env& env, const std::string& dir) {
  Paths p{dir};
  return env.exists(p.cacert()) && env.exists(p.cakey());
}

Status init_openssl_ca(Env& env, const std::string& dir, const CaInitOptions& options) {
  Paths p{dir};
  if (env.exists(p.cacert()))
    return make_error(
        ErrorCode::kAlreadyExists,
        fmt::format("{}: a CA already exists here; edgecert never overwrites one", p.cacert()));
  for (const char* sub : {"", "certs", "newcerts"})
    if (auto st = env.create_dirs(path_join(dir, sub), 0755); !st) return st;
  if (auto st = env.create_dirs(path_join(dir, "private"), 0700); !st) return st;

  auto key = pki::PrivateKey::generate(options.algorithm, options.key_size);
  if (!key) return std::unexpected(key.error());
  pki::CaOptions ca;
  ca.common_name = options.common_name;
  ca.subject = options.subject;
  TimePoint now = env.now();
  ca.not_before = now - std::chrono::minutes(5);
  ca.not_after = now + options.validity;
  ca.serial_hex = "01";
  auto cert = pki::create_self_signed_ca(*key, ca);
  if (!cert) return std::unexpected(cert.error());

  // Key first: a directory with a certificate but no key would look like a
  // CA that cannot sign.
  if (auto st = pki::write_private_key(env, p.cakey(), *key); !st) return st;
  if (auto st = env.write_file_atomic(p.serial(), "1000\n", 0644); !st) return st;
  if (auto st = env.write_file_atomic(p.index(), "", 0644); !st) return st;
  if (auto st = ensure_index_attr(env, p); !st) return st;
  if (auto st = env.write_file_atomic(p.crlnumber(), "1000\n", 0644); !st) return st;
  if (auto st = env.write_file_atomic(p.cacert(), cert->to_pem(), 0644); !st) return st;
  // An initial empty CRL so nodes configured with this CA's CRL find one.
  pki::CrlOptions crl_opts;
  crl_opts.last_update = now;
  crl_opts.next_update = now + std::chrono::days(30);
  crl_opts.number = 0x1000;
  auto crl = pki::Crl::create(*cert, *key, crl_opts);
  if (!crl) return std::unexpected(crl.error());
  if (auto st = env.write_file_atomic(p.crlnumber(), "1001\n", 0644); !st) return st;
  return env.write_file_atomic(p.crl(), crl->to_pem(), 0644);
}

std::unique_ptr<Issuer> make_openssl_ca_issuer(Env& env, std::string dir,
                                               std::chrono::days validity) {
  return std::make_unique<OpensslCa>(env, std::move(dir), validity);
}

}  // namespace edgecert::issuer
