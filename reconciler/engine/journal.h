// The apply journal: a write-ahead record of every action, one JSON object per
// line, fsynced after each line (format: docs/state-format.md).
//
// The executor writes "action-start" before it touches a node and
// "action-done"/"action-failed" after, so after a crash or kill at any point
// the next apply can tell, per action, whether it never started, finished, or
// was in flight (and must be re-checked against the live state before it is
// repeated). A kill during write(2) can leave a torn last line: reading
// ignores an unparsable last line without its newline (and the next append
// cuts it off), but any other unparsable line is corruption (kCorrupt). A
// last line that is a whole entry without its newline is kept, and the next
// append writes the newline first, so no two entries ever share a line.
// Every field is type- and range-checked (seq, time_ms: integers in range,
// never a float such as 1e300); a bad one is kCorrupt naming file, line and
// field.
//
// Entries hold non-secret data only: ids, node names, fingerprints, reasons.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/base/env.h"

namespace edgecert {

// kManualWait: the run stops (or asks in a terminal) at a manual step the
// operator has not done yet (manual_steps.h); data: "step" (its
// manual_step_key), "instruction", "check".
enum class JournalEvent {
  kRunStart,
  kActionStart,
  kActionDone,
  kActionFailed,
  kRunEnd,
  kManualWait
};
const char* journal_event_name(JournalEvent e);

struct JournalEntry {
  long seq = 0;  // assigned by append: 1, 2, ... within the file
  TimePoint time;
  std::string run_id;
  JournalEvent event = JournalEvent::kRunStart;
  std::string action_id;                           // empty for run events
  std::string node;                                // empty for cluster-wide actions
  std::string kind;                                // action kind, e.g. "restart"
  std::string message;                             // outcome or error text
  nlohmann::json data = nlohmann::json::object();  // event-specific, non-secret
};

class Journal {
 public:
  Journal(Env& env, std::string path) : env_(env), path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Fills seq and time, appends one line, fsyncs. The entry is durable when
  // this returns success.
  Status append(JournalEntry entry);

  // Every entry in order (see the torn-line rule above). A missing file is an
  // empty journal.
  Result<std::vector<JournalEntry>> read_all() const;

 private:
  Env& env_;
  std::string path_;
  long next_seq_ = 0;  // 0 = not yet known (read on first append)
};

enum class ActionState { kStarted, kDone, kFailed };

// What the journal says about one run.
struct RunRecord {
  std::string run_id;
  bool finished = false;  // has a run-end entry
  nlohmann::json start_data = nlohmann::json::object();
  std::map<std::string, ActionState> actions;  // by action id, last state wins
  std::vector<std::string> order;              // action ids in first-seen order
};

// The journal text parsed by the rules above (exposed for tests and the fuzz
// target). `torn`: the last line was dropped as torn; `intact`: the length of
// the text that holds the entries.
struct ParsedJournal {
  std::vector<JournalEntry> entries;
  bool torn = false;
  size_t intact = 0;
};
Result<ParsedJournal> parse_journal(const std::string& text, const std::string& path);
// One line (without its newline); the error names the bad field.
Result<JournalEntry> parse_entry(const std::string& line);

// The last run in the journal, if any.
std::optional<RunRecord> last_run(const std::vector<JournalEntry>& entries);

}  // namespace edgecert
