#include "reconciler/engine/journal.h"

#include <fmt/core.h>

namespace edgecert {
namespace {

constexpr std::pair<JournalEvent, const char*> kEventNames[] = {
    {JournalEvent::kRunStart, "run-start"},     {JournalEvent::kActionStart, "action-start"},
    {JournalEvent::kActionDone, "action-done"}, {JournalEvent::kActionFailed, "action-failed"},
    {JournalEvent::kRunEnd, "run-end"},         {JournalEvent::kManualWait, "manual-wait"},
};

std::optional<JournalEvent> parse_event(const std::string& s) {
  for (auto& [e, n] : kEventNames)
    if (s == n) return e;
  return std::nullopt;
}

long long unix_ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

const char* journal_event_name(JournalEvent e) {
  for (auto& [ev, n] : kEventNames)
    if (ev == e) return n;
  return "?";
}

Status Journal::append(JournalEntry entry) {
  if (next_seq_ == 0) {
    auto existing = read_all();
    if (!existing) return std::unexpected(existing.error());
    next_seq_ = existing->empty() ? 1 : existing->back().seq + 1;
    // A kill mid-write leaves a torn last line; appending after it would glue
    // the next entry onto the fragment and corrupt the middle of the file.
    // Cut the fragment off first (atomically: readers see before or after).
    auto text = env_.read_file(path_);
    if (text && !text->empty() && text->back() != '\n') {
      size_t keep = text->rfind('\n');
      std::string intact = keep == std::string::npos ? "" : text->substr(0, keep + 1);
      if (auto st = env_.write_file_atomic(path_, intact, 0600); !st) return st;
    }
  }
  entry.seq = next_seq_;
  entry.time = env_.now();
  nlohmann::json j = {{"seq", entry.seq},
                      {"time_ms", unix_ms(entry.time)},
                      {"run", entry.run_id},
                      {"event", journal_event_name(entry.event)}};
  if (!entry.action_id.empty()) j["action"] = entry.action_id;
  if (!entry.node.empty()) j["node"] = entry.node;
  if (!entry.kind.empty()) j["kind"] = entry.kind;
  if (!entry.message.empty()) j["message"] = entry.message;
  if (!entry.data.empty()) j["data"] = entry.data;
  // A leading newline would be simpler for torn-line recovery, but a torn
  // line is only ever the last one, and read_all drops exactly that.
  auto st = env_.append_file(path_, j.dump() + "\n", 0600);
  if (!st) return st;
  ++next_seq_;
  return {};
}

Result<std::vector<JournalEntry>> Journal::read_all() const {
  std::vector<JournalEntry> out;
  auto text = env_.read_file(path_);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return out;
    return std::unexpected(text.error());
  }
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text->substr(start));  // no newline: torn by definition
      break;
    }
    lines.push_back(text->substr(start, nl - start));
    start = nl + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size();
    const bool complete = !last || text->back() == '\n';
    auto fail = [&](const std::string& why) -> Result<std::vector<JournalEntry>> {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}:{}: corrupt journal line: {}", path_, i + 1, why));
    };
    if (lines[i].empty()) {
      if (last) break;
      return fail("empty line");
    }
    try {
      auto j = nlohmann::json::parse(lines[i]);
      auto ev = parse_event(j.at("event").get<std::string>());
      if (!ev) return fail("unknown event");
      JournalEntry e;
      e.seq = j.at("seq").get<long>();
      e.time = TimePoint(std::chrono::milliseconds(j.at("time_ms").get<long long>()));
      e.run_id = j.at("run").get<std::string>();
      e.event = *ev;
      e.action_id = j.value("action", "");
      e.node = j.value("node", "");
      e.kind = j.value("kind", "");
      e.message = j.value("message", "");
      if (j.contains("data")) e.data = j["data"];
      out.push_back(std::move(e));
    } catch (const std::exception& ex) {
      // Only the final line may be torn by a kill mid-write.
      if (last && !complete) break;
      return fail(ex.what());
    }
  }
  return out;
}

std::optional<RunRecord> last_run(const std::vector<JournalEntry>& entries) {
  std::optional<RunRecord> run;
  for (const JournalEntry& e : entries) {
    if (e.event == JournalEvent::kRunStart) {
      run = RunRecord{};
      run->run_id = e.run_id;
      run->start_data = e.data;
      continue;
    }
    if (!run || e.run_id != run->run_id) continue;
    switch (e.event) {
      case JournalEvent::kRunEnd:
        run->finished = true;
        break;
      case JournalEvent::kActionStart:
      case JournalEvent::kActionDone:
      case JournalEvent::kActionFailed: {
        ActionState s = e.event == JournalEvent::kActionStart  ? ActionState::kStarted
                        : e.event == JournalEvent::kActionDone ? ActionState::kDone
                                                               : ActionState::kFailed;
        if (!run->actions.count(e.action_id)) run->order.push_back(e.action_id);
        run->actions[e.action_id] = s;
        break;
      }
      case JournalEvent::kRunStart:
      case JournalEvent::kManualWait:  // nothing was touched: the step is the operator's
        break;
    }
  }
  return run;
}

}  // namespace edgecert
