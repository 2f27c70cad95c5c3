// The CLI's side of fleets (reconciler/engine/fleet.h): SPEC arguments that
// are many files and folders, --shard K/N, and output grouped per cluster
// with a fleet summary line.
//
// Fleet mode is on when a command is given more than one SPEC, a folder, or
// --shard; with one spec file it prints exactly what it always did.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "reconciler/cli/cli.h"
#include "reconciler/engine/session.h"
#include "schema/loader.h"

namespace CLI {
class App;
}

namespace edgecert {

// --shard K/N: this runner's part of the clusters (fleet.h's in_shard).
void add_shard_option(CLI::App& app, std::string& shard);

struct FleetSelection {
  // The specs this run takes, in discovery order.
  std::vector<std::string> specs;
  // The cluster of each spec that loaded ("" for one that did not: its
  // errors are the command's to print when it loads it).
  std::map<std::string, std::string> cluster_of;
  // With refuse_conflicts false: a spec that names a cluster or a node an
  // earlier one names -> the message (naming both files).
  std::map<std::string, std::string> conflicts;
  size_t found = 0;   // specs discovered, before --shard
  std::string shard;  // "K/N" as given, or ""
  bool fleet = false;
};

// Discovers the specs `paths` stand for (fleet.h's discover_specs), loads
// each through `env` with `load`, refuses (errors printed on ctx.err,
// nullopt) a fleet where two specs name one cluster or one node (or, with
// `refuse_conflicts` false, reports them in `conflicts`: check fails those
// specs and checks the rest), and keeps
// those in `shard` (a spec that does not load has no cluster name: the
// shard of its path as given keeps it, so exactly one runner reports it). An empty shard is not an
// error: a runner of a small fleet may have nothing to do, and says so.
std::optional<FleetSelection> select_fleet(Env& env, const std::vector<std::string>& paths,
                                           const std::string& shard, const SessionOptions& options,
                                           const schema::LoadOptions& load, CliContext& ctx,
                                           bool refuse_conflicts = true);

// A stream that writes every line it is given to `target` with `prefix`
// in front ("[tokyo] edgecert: error: ..."): a fleet's errors say which
// cluster they are about even when stderr is read apart from stdout. Each
// line goes out whole, under `mutex` when one is given (clusters applied
// concurrently share one per target), and flushed; an unfinished last line
// goes out when the stream is flushed or destroyed. One writer per stream
// (the line being built is not guarded; the mutex orders whole lines
// between streams).
class PrefixedStream : public std::ostream {
 public:
  PrefixedStream(std::ostream& target, std::string prefix, std::mutex* mutex = nullptr);
  ~PrefixedStream() override;

 private:
  class Buf : public std::streambuf {
   public:
    Buf(std::ostream& target, std::string prefix, std::mutex* mutex)
        : target_(target), prefix_(std::move(prefix)), mutex_(mutex) {}
    void emit();

   protected:
    int overflow(int c) override;
    int sync() override;

   private:
    std::ostream& target_;
    std::string prefix_;
    std::mutex* mutex_;
    std::string line_;
  };
  Buf buf_;
};

// Runs work(i, out, err) for i in [0, n) on up to `workers` threads. What
// each writes is kept and printed on ctx.out and ctx.err in index order,
// each item's as soon as it and every item before it are done: the output
// reads as if the items had run one after another. `work` must not throw.
void run_in_order(size_t n, size_t workers, CliContext& ctx,
                  const std::function<void(size_t i, std::ostream& out, std::ostream& err)>& work);

// "== tokyo (clusters/tokyo/cluster.yaml) ==".
std::string fleet_heading(const std::string& cluster, const std::string& spec_path);

// How one cluster of a fleet came out, for the summary line and JSON.
enum class FleetOutcome { kInSync, kChanges, kFailed };

struct FleetRow {
  std::string cluster;  // "" when the spec did not load: spec_path names it
  std::string spec_path;
  FleetOutcome outcome = FleetOutcome::kFailed;
  size_t actions = 0;  // kChanges: how many
};

// "Fleet: 3 clusters (shard 1/2 of 5 specs)": how every fleet summary line
// (plan, check, status, apply) starts.
std::string fleet_summary_head(size_t clusters, const FleetSelection& selection);

// "Fleet: 3 clusters (shard 1/2 of 5 specs): 1 to change (4 actions), 1 in
// sync, 1 failed (osaka)".
std::string fleet_summary(const std::vector<FleetRow>& rows, const FleetSelection& selection);

// Exit status of a fleet command: 1 when any cluster failed, else 2 when
// `changes_exit` and any cluster has changes, else 0.
int fleet_exit(const std::vector<FleetRow>& rows, bool changes_exit);

}  // namespace edgecert
