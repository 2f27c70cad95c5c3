// The readable form of a plan (render_plan_text), Terraform-like.
#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "reconciler/engine/manual_steps.h"
#include "reconciler/engine/plan.h"

namespace edgecert {
namespace {

std::string scalar(const nlohmann::json& j);

// `j[key]`, or null when `j` is not an object or has no such member. A saved
// plan's before/after come from a file (plan_from_json keeps them as they
// are), so nothing here may assume their shape: nlohmann's operator[] throws
// on a non-object and is undefined for a missing key on a const object.
const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  static const nlohmann::json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string cert_line(const nlohmann::json& c) {
  if (c.is_null()) return "(none)";
  if (!c.is_object()) return scalar(c);
  std::string sans;
  if (const auto& names = member(c, "dns_names"); names.is_array())
    for (const auto& s : names) sans += (sans.empty() ? "" : ", ") + scalar(s);
  const auto& cn = member(c, "common_name");
  std::string out = fmt::format("CN {}", cn.is_null() ? "?" : scalar(cn));
  if (!sans.empty()) out += fmt::format(", SANs [{}]", sans);
  for (const char* key : {"key", "digest"})
    if (c.contains(key)) out += ", " + scalar(member(c, key));
  if (c.contains("not_after")) out += ", expires " + scalar(member(c, "not_after"));
  if (const auto& issuer = member(c, "issuer"); issuer.is_string())
    out += ", issuer " + issuer.get<std::string>();
  if (const auto& factory = member(c, "factory"); factory.is_boolean() && factory.get<bool>())
    out += " (the factory temporary certificate)";
  return out;
}

// A settings value as the spec writes it: strings bare, lists comma
// separated, an ACME schedule as "mon,thu 04:00".
std::string scalar(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    std::string out;
    for (const auto& e : j) out += (out.empty() ? "" : ",") + scalar(e);
    return "[" + out + "]";
  }
  if (j.is_object() && j.contains("days") && j.contains("time"))
    return scalar(member(j, "days")) + " " + scalar(member(j, "time"));
  return j.dump();
}

std::string note_line(const std::string& note) {
  if (note.starts_with("warning: ")) return "Warning: " + note.substr(9);
  return "Note: " + note;
}

}  // namespace

std::string render_plan_text(const Plan& p) {
  if (p.empty()) {
    std::string out = "No changes. Live state matches the spec.\n";
    for (const auto& n : p.notes) out += note_line(n) + "\n";
    return out;
  }
  std::string out = fmt::format(
      "edgecert will perform the following actions on cluster {} (in this order):\n"
      "Symbols: + add  ~ change  - remove  ! restart (disrupts that node)\n",
      p.cluster);
  // Grouped by node, nodes in the order they are first touched.
  std::vector<std::string> nodes;
  for (const auto& a : p.actions)
    if (std::find(nodes.begin(), nodes.end(), a.node) == nodes.end()) nodes.push_back(a.node);
  size_t index = 0;
  std::map<std::string, size_t> position;
  for (const auto& a : p.actions) position[a.id] = ++index;
  for (const auto& node : nodes) {
    out += fmt::format("\n  # {}\n", node);
    for (const auto& a : p.actions) {
      if (a.node != node) continue;
      // Several reasons ("a; b; c") read better one per line.
      std::vector<std::string> reasons;
      for (size_t start = 0;;) {
        size_t sep = a.reason.find("; ", start);
        reasons.push_back(a.reason.substr(start, sep == std::string::npos ? sep : sep - start));
        if (sep == std::string::npos) break;
        start = sep + 2;
      }
      out += fmt::format("  {} [{:>2}] {}{}: {}\n", a.traits().symbol, position[a.id],
                         action_kind_name(a.kind()), a.manual ? " (MANUAL STEP)" : "",
                         reasons.front());
      for (size_t i = 1; i < reasons.size(); ++i) out += fmt::format("          {}\n", reasons[i]);
      switch (a.kind()) {
        case ActionKind::kGenerateCsr:
        case ActionKind::kRestart:
        case ActionKind::kAcmeDeploy:
          out += fmt::format("          before: {}\n          after:  {}\n", cert_line(a.before),
                             cert_line(a.after));
          break;
        case ActionKind::kAppendTrustedCas:
          if (const auto& names = member(a.after, "certificates"); names.is_array())
            for (const auto& name : names) out += fmt::format("          + {}\n", scalar(name));
          break;
        case ActionKind::kRemoveManualCrl:
          out += fmt::format("          - manual CRL {}\n", scalar(a.before));
          break;
        case ActionKind::kDeleteTrustedCa:
          out += fmt::format("          - {} ({})\n", scalar(member(a.before, "certificate")),
                             scalar(member(a.before, "sha256")));
          break;
        case ActionKind::kSetTlsVerification:
          out += fmt::format("          {} -> {}\n", scalar(a.before), scalar(a.after));
          break;
        case ActionKind::kSetCrlSettings:
        case ActionKind::kSetRevocationChecking:
        case ActionKind::kSetAcmeSettings:
          // before: an object, or a string ("unknown": the node cannot show it).
          if (!a.after.is_object()) break;  // a saved plan's, edited
          for (auto it = a.after.begin(); it != a.after.end(); ++it)
            if (!a.before.is_object() || a.before.value(it.key(), nlohmann::json()) != it.value())
              out += fmt::format("          {}: {} -> {}\n", it.key(),
                                 a.before.is_object()   ? scalar(member(a.before, it.key().c_str()))
                                 : a.before.is_string() ? scalar(a.before)
                                                        : "?",
                                 scalar(it.value()));
          break;
        default:
          break;
      }
      if (a.manual) {
        ManualInstruction m = manual_instruction(a);
        out += fmt::format("          by hand on {}, in {}:\n", a.node, m.page);
        for (const auto& setting : m.settings) out += fmt::format("            {}\n", setting);
        out += fmt::format("          edgecert checks: {}\n", m.check);
      }
    }
  }
  for (const auto& n : p.notes) out += "\n" + note_line(n) + "\n";
  if (p.next_window) out += fmt::format("\nNext rollout window opens {}\n", *p.next_window);
  if (p.manual_count() > 0)
    out += fmt::format(
        "\nManual steps: these nodes have no interface for some operations; apply stops before "
        "each such step (exit 4) and says what to do, or in a terminal waits for you to type "
        "'done'.\n");
  out += "\n" + p.summary_line() + ".\n";
  return out;
}

}  // namespace edgecert
