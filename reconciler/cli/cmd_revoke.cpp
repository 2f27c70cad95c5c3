// `edgecert revoke SPEC --node NODE --certificate FILE --reason R`: revoke one
// certificate a node no longer uses.
//
// Revocation cannot be undone, so it is refused for a certificate any node of
// the cluster serves, has staged, or holds pending in its ACME service ("never
// revoke the certificate in use", expressway.md §4), and it asks for approval
// like apply. Issuer expressway-acme revokes through the node (its ACME
// account proves control); every other issuer revokes itself. The cluster lock
// keeps it from racing an apply; the audit log records it.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "providers/base/fqdn.h"
#include "providers/base/time.h"
#include "providers/pki/checks.h"
#include "reconciler/cli/cli.h"
#include "reconciler/cli/interrupt.h"
#include "reconciler/cli/session_cli.h"
#include "reconciler/engine/git_lock.h"
#include "reconciler/engine/lock.h"

namespace edgecert {
namespace {

// Where `fp` is in use in the cluster ("edge1 serves it"), "" when nowhere.
std::string in_use(const ClusterLive& live, const std::string& fp) {
  for (const NodeLive& n : live.nodes) {
    const node::NodeState& st = *n.state;
    if (!st.server_chain.empty() && st.server_chain.front().sha256_fingerprint() == fp)
      return n.peer + " serves it";
    if (!st.staged_chain.empty() && st.staged_chain.front().sha256_fingerprint() == fp)
      return n.peer + " has it staged for its next restart";
    if (auto pending = pending_acme_chain(st);
        pending && pending->front().sha256_fingerprint() == fp)
      return n.peer + " holds it pending in its ACME service";
  }
  return "";
}

}  // namespace

std::function<int()> setup_revoke(CLI::App& app, CliContext& ctx) {
  struct Opts {
    std::string spec;
    std::string node;
    std::string certificate;
    std::string reason;
    bool auto_approve = false;
    std::string lock_timeout = "0";
    NodeOptions nodes;
  };
  auto o = std::make_shared<Opts>();
  app.add_option("SPEC", o->spec, "Spec of the cluster")->required();
  app.add_option("--node", o->node, "Peer that used the certificate")->required();
  app.add_option("--certificate", o->certificate,
                 "PEM or DER file; its first certificate is revoked")
      ->required();
  app.add_option("--reason", o->reason,
                 "superseded, key-compromise, affiliation-changed, cessation-of-operation or "
                 "unspecified")
      ->required();
  app.add_flag("--auto-approve", o->auto_approve, "Do not ask for approval");
  add_node_options(app, o->nodes, false);
  add_lock_timeout_option(app, o->lock_timeout);

  return [o, &ctx]() -> int {
    auto lock_timeout = parse_lock_timeout(o->lock_timeout, ctx);
    if (!lock_timeout) return kExitError;
    // Ctrl-C while waiting for the lock or at the prompt: nothing is changed.
    InterruptScope interrupts(InterruptScope::Mode::kStop);
    auto interrupted = [&]() {
      ctx.err << "\nedgecert: revoke interrupted; nothing was changed.\n";
      return interrupts.exit_code();
    };
    auto reason = pki::parse_revocation_reason(o->reason);
    if (!reason) {
      ctx.err << fmt::format(
          "edgecert: error: --reason '{}' is not a revocation reason (superseded, "
          "key-compromise, affiliation-changed, cessation-of-operation, unspecified)\n",
          o->reason);
      return kExitError;
    }
    auto certs = pki::load_certificates(ctx.env, o->certificate, read_limits::kCertificate);
    if (!certs || certs->empty()) {
      ctx.err << "edgecert: error: "
              << (certs ? o->certificate + ": no certificate in the file" : certs.error().message)
              << "\n";
      return kExitError;
    }
    const pki::Certificate& cert = certs->front();

    auto session = open_session(o->spec, o->nodes, ctx);
    if (!session) return kExitError;
    Session& s = *session;
    const spec::Peer* peer = s.spec.find_peer(o->node);
    if (!peer) {
      ctx.err << fmt::format("edgecert: error: '{}' is not a peer of {}\n", o->node, s.spec.name);
      return kExitError;
    }

    LockWait wait;
    wait.timeout = *lock_timeout;
    wait.stop = interrupts.token();
    wait.unlock_args = o->spec;
    if (!o->nodes.state_dir.empty()) wait.unlock_args += " --state-dir " + o->nodes.state_dir;
    wait.waiting = [&](const LockInfo& holder, std::chrono::seconds waited) {
      ctx.out << fmt::format(
                     "Waiting for the cluster lock ({}s of {}s): {}\n", waited.count(),
                     std::chrono::duration_cast<std::chrono::seconds>(*lock_timeout).count(),
                     describe_lock(holder))
              << std::flush;
    };
    // As apply: the lock across machines first, when the spec names one.
    std::optional<GitLock> git_lock;
    if (s.spec.rollout.lock_repository) {
      auto store = open_lock_repository(ctx.env, *s.spec.rollout.lock_repository, s.state_dir);
      auto taken = store ? acquire_git_lock(ctx.env, *store, s.spec.name, "revoke",
                                            current_process(ctx.env), wait)
                         : Result<GitLock>(store.error());
      if (!taken && taken.error().code == ErrorCode::kCancelled) return interrupted();
      if (!taken) {
        ctx.err << "edgecert: error: " << taken.error().message << "; nothing was changed\n";
        return kExitError;
      }
      git_lock.emplace(std::move(*taken));
      wait.id = git_lock->info().id;
    }
    auto lock = acquire_lock(ctx.env, s.state_dir, "revoke", current_process(ctx.env), wait);
    if (!lock && lock.error().code == ErrorCode::kCancelled) return interrupted();
    if (!lock) {
      ctx.err << "edgecert: error: " << lock.error().message << "\n";
      return kExitError;
    }
    auto live = read_live(s, ctx);
    if (!live) return kExitError;
    std::string fp = cert.sha256_fingerprint();
    if (std::string where = in_use(*live, fp); !where.empty()) {
      ctx.err << fmt::format(
          "edgecert: error: {}: revoke: refused: serial {} is in use ({}); deploy a replacement "
          "first. Nothing was changed.\n",
          o->node, cert.serial_hex(), where);
      return kExitError;
    }

    bool on_node = node_signs(s.spec);
    ctx.out << fmt::format(
        "edgecert will revoke this certificate ({}), which cannot be undone:\n"
        "  subject: {}\n  issuer:  {}\n  serial:  {}\n  expires: {}\n  sha256:  {}\n"
        "  through: {}\n",
        pki::revocation_reason_name(*reason), cert.subject(), cert.issuer(), cert.serial_hex(),
        format_time(cert.not_after()), fp,
        on_node ? o->node + "'s ACME service" : "issuer " + s.issuer_description);
    auto names = cert.subject_alt_names().dns;
    names.push_back(cert.subject_cn());
    bool for_node = false;
    for (const auto& n : names)
      for_node = for_node || to_lower_ascii(n) == to_lower_ascii(peer->fqdn);
    if (!for_node)
      ctx.out << fmt::format("  warning: the certificate does not name {} ({})\n", o->node,
                             peer->fqdn);
    if (!o->auto_approve) {
      if (!ctx.stdin_is_tty || !ctx.in) {
        ctx.err << "edgecert: error: approval needed but standard input is not a terminal; "
                   "rerun with --auto-approve. Nothing was changed.\n";
        return kExitError;
      }
      ctx.out << "\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ";
      ctx.out.flush();
      std::string answer;
      std::getline(*ctx.in, answer);
      if (interrupts.signal() != 0) return interrupted();
      if (answer != "yes") {
        ctx.err << "\nRevoke cancelled; nothing was changed.\n";
        return kExitError;
      }
    }
    if (interrupts.signal() != 0) return interrupted();

    TimePoint started = ctx.env.now();
    // issuer::RevocationReason values are the RFC 5280 codes the node takes.
    Status st = on_node ? s.nodes.find(o->node)->acme_revoke(cert.to_pem(), *reason)
                        : s.issuer->revoke(cert, *reason);
    ProcessIdentity who = current_process(ctx.env);
    nlohmann::json audit = {{"cluster", s.spec.name},
                            {"action", o->node + "/revoke"},
                            {"node", o->node},
                            {"kind", "revoke"},
                            {"outcome", st ? "done" : "failed"},
                            {"message", st ? "revoked" : st.error().message},
                            {"serial", cert.serial_hex()},
                            {"sha256", fp},
                            {"reason", pki::revocation_reason_name(*reason)},
                            {"started", format_time(started)},
                            {"finished", format_time(ctx.env.now())},
                            {"spec_sha256", s.spec_sha256},
                            {"user", who.user},
                            {"host", who.host}};
    if (auto a =
            ctx.env.append_file(path_join(s.state_dir, "audit.jsonl"), audit.dump() + "\n", 0644);
        !a)
      ctx.err << "edgecert: warning: audit log: " << a.error().message << "\n";
    if (!st && st.error().code == ErrorCode::kAlreadyExists) {
      ctx.out << fmt::format("\nSerial {} was already revoked.\n", cert.serial_hex());
      return kExitOk;
    }
    if (!st) {
      std::string msg = st.error().message;
      if (msg.rfind(o->node + ":", 0) != 0 && on_node) msg = o->node + ": revoke: " + msg;
      ctx.err << "edgecert: error: " << msg << "\n";
      return kExitError;
    }
    ctx.out << fmt::format("\nRevoked serial {} ({}).\n", cert.serial_hex(),
                           pki::revocation_reason_name(*reason));
    return kExitOk;
  };
}

}  // namespace edgecert
