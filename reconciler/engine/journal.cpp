#include "reconciler/engine/journal.h"

#include <limits>

#include <fmt/core.h>

#include "reconciler/engine/json_fields.h"

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

// The latest time_ms edgecert accepts: kLatestTime (9999-12-31T23:59:59Z),
// the last instant it can print; anything later in a journal is damage.
constexpr long long kMaxTimeMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(kLatestTime.time_since_epoch()).count();

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
  // What goes before the entry: "\n" when the file ends in a complete entry
  // without its newline (written by hand, or by a writer killed between the
  // entry and its newline), so the two never share a line.
  std::string lead;
  if (next_seq_ == 0) {
    auto text = env_.read_file(path_, read_limits::kJournal);
    if (!text && text.error().code != ErrorCode::kNotFound) return std::unexpected(text.error());
    auto parsed = parse_journal(text ? *text : std::string(), path_);
    if (!parsed) return std::unexpected(parsed.error());
    next_seq_ = parsed->entries.empty() ? 1 : parsed->entries.back().seq + 1;
    if (parsed->torn) {
      // A kill mid-write leaves a torn last line; appending after it would
      // glue the next entry onto the fragment and corrupt the middle of the
      // file. Cut the fragment off first (atomically: readers see before or
      // after).
      if (auto st = env_.write_file_atomic(path_, text->substr(0, parsed->intact), 0600); !st)
        return st;
    } else if (text && !text->empty() && text->back() != '\n') {
      lead = "\n";
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
  // One write per entry: a kill leaves at worst this entry torn, and the
  // reader drops exactly that.
  // Messages may quote a node's reply; bytes that are not UTF-8 are replaced
  // rather than thrown on (issue 16, defect 2).
  auto st = env_.append_file(
      path_, lead + j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
  if (!st) {
    // The write may have gone through in part: look at the file again
    // before the next entry, so it does not land on a torn line.
    next_seq_ = 0;
    return st;
  }
  ++next_seq_;
  return {};
}

Result<std::vector<JournalEntry>> Journal::read_all() const {
  auto text = env_.read_file(path_, read_limits::kJournal);
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) return std::vector<JournalEntry>();
    return std::unexpected(text.error());
  }
  auto parsed = parse_journal(*text, path_);
  if (!parsed) return std::unexpected(parsed.error());
  return std::move(parsed->entries);
}

Result<ParsedJournal> parse_journal(const std::string& text, const std::string& path) {
  ParsedJournal out;
  size_t start = 0;
  for (size_t line_no = 1; start < text.size(); ++line_no) {
    size_t nl = text.find('\n', start);
    const bool terminated = nl != std::string::npos;
    const std::string line = text.substr(start, terminated ? nl - start : std::string::npos);
    const size_t next = terminated ? nl + 1 : text.size();
    const bool last = next >= text.size();
    auto fail = [&](const std::string& why) -> Result<ParsedJournal> {
      return make_error(ErrorCode::kCorrupt,
                        fmt::format("{}:{}: corrupt journal line: {}{}", path, line_no, why,
                                    last ? ""
                                         : " (it is not the last line, "
                                           "so it is not a torn write)"));
    };
    if (line.empty()) {
      // A blank last line holds no entry; drop it like a torn one, so the
      // next append does not leave it in the middle of the file.
      if (last) {
        out.torn = true;
        break;
      }
      return fail("empty line");
    }
    auto entry = parse_entry(line);
    if (!entry) {
      // Only the final line, without its newline, may be torn by a kill
      // mid-write. A final line that is a whole entry but lacks the newline
      // is kept (append adds the newline before the next entry).
      if (last && !terminated) {
        out.torn = true;
        break;
      }
      return fail(entry.error().message);
    }
    out.entries.push_back(std::move(*entry));
    start = next;
    out.intact = start;
  }
  return out;
}

Result<JournalEntry> parse_entry(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kCorrupt, "not valid JSON");
  JsonFields f(j, "");
  JournalEntry e;
  // seq + 1 must not overflow (append numbers the next entry from it).
  e.seq = static_cast<long>(f.integer("seq", 1, std::numeric_limits<long>::max() - 1));
  e.time = TimePoint(std::chrono::milliseconds(f.integer("time_ms", 0, kMaxTimeMs)));
  e.run_id = f.string("run");
  std::string event = f.string("event");
  e.action_id = f.optional_string("action").value_or("");
  e.node = f.optional_string("node").value_or("");
  e.kind = f.optional_string("kind").value_or("");
  e.message = f.optional_string("message").value_or("");
  if (f.ok() && j.contains("data")) {
    if (const nlohmann::json* data = f.object("data")) e.data = *data;
  }
  if (!f.ok()) return make_error(ErrorCode::kCorrupt, f.error()->message);
  auto ev = parse_event(event);
  if (!ev) return make_error(ErrorCode::kCorrupt, fmt::format("event: unknown event '{}'", event));
  e.event = *ev;
  return e;
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
