// What the journal of earlier runs tells a new one (executor.h): the chains
// already signed, the restarts never verified, and the verify action that
// checks them first.
#include <map>

#include "reconciler/engine/executor.h"

namespace edgecert {

Action resume_verify_action(const std::string& node, const std::string& fqdn) {
  Action v;
  v.id = node + "/verify-served/resume";
  v.node = node;
  v.params = VerifyServedParams{fqdn};
  v.reason = "the interrupted run restarted this node but never verified what it serves";
  return v;
}

std::map<std::string, std::vector<std::string>> signed_chains_from_journal(
    const std::vector<JournalEntry>& entries) {
  std::map<std::string, std::vector<std::string>> out;
  std::map<std::string, std::string> node_of;  // csr sha256 -> node
  for (const auto& e : entries) {
    if (e.kind != action_kind_name(ActionKind::kSignCsr)) continue;
    if (e.event == JournalEvent::kActionFailed) {
      // A later failed sign for the node drops what was recorded for it: the
      // chain was refused by the checks (or its CSR is gone), and replaying
      // it would refuse the corrected certificate forever.
      for (auto it = node_of.begin(); it != node_of.end();)
        if (it->second == e.node) {
          out.erase(it->first);
          it = node_of.erase(it);
        } else {
          ++it;
        }
      continue;
    }
    if (e.event != JournalEvent::kActionDone) continue;
    // A damaged or edited entry is skipped (that CSR is signed again), never
    // trusted and never thrown over.
    auto csr = e.data.find("csr_sha256");
    auto chain = e.data.find("chain");
    if (csr == e.data.end() || !csr->is_string() || chain == e.data.end() || !chain->is_array() ||
        chain->empty())
      continue;
    std::vector<std::string> pems;
    for (const auto& pem : *chain)
      if (pem.is_string()) pems.push_back(pem.get<std::string>());
    if (pems.size() != chain->size()) continue;
    out[csr->get<std::string>()] = std::move(pems);
    node_of[csr->get<std::string>()] = e.node;
  }
  return out;
}

std::vector<std::string> unverified_restarts(const std::vector<JournalEntry>& entries) {
  std::map<std::string, bool> owed;  // node -> a restart awaits verification
  for (const auto& e : entries) {
    if (e.node.empty()) continue;
    if (e.kind == action_kind_name(ActionKind::kRestart) &&
        (e.event == JournalEvent::kActionStart || e.event == JournalEvent::kActionDone))
      owed[e.node] = true;
    if (e.kind == action_kind_name(ActionKind::kVerifyServed) &&
        e.event == JournalEvent::kActionDone)
      owed[e.node] = false;
  }
  std::vector<std::string> out;
  for (const auto& [node, pending] : owed)
    if (pending) out.push_back(node);
  return out;
}

}  // namespace edgecert
