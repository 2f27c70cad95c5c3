#include "reconciler/cli/fleet_cli.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "reconciler/engine/fleet.h"

namespace edgecert {

namespace {

// A spec's path without the spelling: "./a//b.yaml" is "a/b.yaml", and a
// commit's "git:<commit>/clusters/x.yaml" is "clusters/x.yaml".
std::string shard_key(const std::string& path) {
  std::string p = std::filesystem::path(path).lexically_normal().string();
  if (p.rfind("git:", 0) == 0) {
    const size_t slash = p.find('/');
    p = slash == std::string::npos ? "" : p.substr(slash + 1);
  }
  return p;
}

}  // namespace

void add_shard_option(CLI::App& app, std::string& shard) {
  app.add_option("--shard", shard,
                 "Take only shard K of N of the clusters found (K/N, by a hash of the cluster "
                 "name: the N shards partition the fleet; docs/scaling.md)")
      // An empty value (a CI variable that is not set) must not mean "all".
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.empty() ? std::string("--shard needs K/N, for example 2/8") : std::string();
          },
          "K/N"));
}

std::optional<FleetSelection> select_fleet(Env& env, const std::vector<std::string>& paths,
                                           const std::string& shard, const SessionOptions& options,
                                           const schema::LoadOptions& load, CliContext& ctx,
                                           bool refuse_conflicts) {
  FleetSelection sel;
  sel.shard = shard;
  std::optional<Shard> parsed;
  if (!shard.empty()) {
    auto s = parse_shard(shard);
    if (!s) {
      ctx.err << "edgecert: error: " << s.error().message << "\n";
      return std::nullopt;
    }
    parsed = *s;
    sel.shard = fmt::format("{}/{}", s->index, s->count);  // "01/03" reads 1/3
  }
  sel.fleet = paths.size() > 1 || parsed.has_value() ||
              std::any_of(paths.begin(), paths.end(),
                          [&](const std::string& p) { return env.is_directory(p); });
  std::vector<std::string> skipped;
  auto specs = discover_specs(env, paths, &skipped);
  if (!specs) {
    ctx.err << "edgecert: error: " << specs.error().message << "\n";
    return std::nullopt;
  }
  // A spec whose apiVersion line went wrong would otherwise just be missing
  // from the fleet.
  for (const std::string& p : skipped)
    ctx.err << fmt::format(
        "edgecert: warning: {}: mentions edgecert/v1 but has no top-level 'apiVersion: "
        "edgecert/v1' line, so it is not taken for a spec; if it is one, fix that line\n",
        p);
  sel.found = specs->size();
  // One spec file: nothing to conflict with or to shard. It is loaded once,
  // by the command.
  if (!sel.fleet) {
    sel.specs = std::move(*specs);
    return sel;
  }
  // Every spec is loaded, the other shards' too: a conflict is refused by
  // every runner alike, not only by the one that happens to hold both.
  std::vector<schema::LoadResult> loaded;
  loaded.reserve(specs->size());
  std::vector<FleetMember> members;
  for (const std::string& p : *specs) {
    loaded.push_back(schema::load_spec_file(p, env, load));
    members.push_back(FleetMember{p, loaded.back().spec ? &*loaded.back().spec : nullptr});
  }
  node::NodeOpenContext open(env);
  open.sim_dir = options.sim_dir;
  open.local_dir = options.local_dir;
  const std::vector<FleetConflict> conflicts = fleet_conflicts(members, open);
  for (const FleetConflict& c : conflicts) sel.conflicts[c.spec_path] = c.message;
  if (!conflicts.empty() && refuse_conflicts) {
    for (const FleetConflict& c : conflicts) ctx.err << "edgecert: error: " << c.message << "\n";
    ctx.err << "edgecert: error: the specs given do not describe one fleet; nothing was read or "
               "changed\n";
    return std::nullopt;
  }
  for (const FleetMember& m : members) {
    // A spec that did not load has no name: its path places it, so exactly
    // one shard reports it. The path as the repository names it, however it
    // was spelled: every runner, at every commit, hashes the same string.
    if (parsed && !in_shard(m.spec ? m.spec->name : shard_key(m.spec_path), *parsed)) continue;
    sel.specs.push_back(m.spec_path);
    sel.cluster_of[m.spec_path] = m.spec ? m.spec->name : "";
  }
  return sel;
}

PrefixedStream::PrefixedStream(std::ostream& target, std::string prefix, std::mutex* mutex)
    : std::ostream(nullptr), buf_(target, std::move(prefix), mutex) {
  rdbuf(&buf_);
}

PrefixedStream::~PrefixedStream() {
  buf_.emit();
}

void PrefixedStream::Buf::emit() {
  if (line_.empty()) return;
  std::unique_lock<std::mutex> lock;
  if (mutex_) lock = std::unique_lock<std::mutex>(*mutex_);
  target_ << prefix_ << line_ << std::flush;
  line_.clear();
}

int PrefixedStream::Buf::sync() {
  emit();  // a prompt without a newline shows when it is flushed
  return 0;
}

int PrefixedStream::Buf::overflow(int c) {
  if (c == traits_type::eof()) return traits_type::not_eof(c);
  line_.push_back(static_cast<char>(c));
  if (c == '\n') emit();
  return c;
}

void run_in_order(size_t n, size_t workers, CliContext& ctx,
                  const std::function<void(size_t, std::ostream&, std::ostream&)>& work) {
  std::vector<std::ostringstream> outs(n), errs(n);
  std::vector<char> done(n, 0);
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      work(i, outs[i], errs[i]);
      {
        std::lock_guard<std::mutex> lock(mu);
        done[i] = 1;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(std::max<size_t>(workers, 1), n); ++t)
    threads.emplace_back(worker);
  for (size_t i = 0; i < n; ++i) {
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return done[i] != 0; });
    }
    ctx.err << errs[i].str() << std::flush;
    ctx.out << outs[i].str() << std::flush;
  }
  for (std::thread& t : threads) t.join();
}

std::string fleet_heading(const std::string& cluster, const std::string& spec_path) {
  if (cluster.empty()) return fmt::format("== {} ==", spec_path);
  return fmt::format("== {} ({}) ==", cluster, spec_path);
}

std::string fleet_summary_head(size_t clusters, const FleetSelection& selection) {
  std::string text = fmt::format("Fleet: {} cluster{}", clusters, clusters == 1 ? "" : "s");
  if (!selection.shard.empty())
    text += fmt::format(" (shard {} of {} spec{})", selection.shard, selection.found,
                        selection.found == 1 ? "" : "s");
  return text;
}

std::string fleet_summary(const std::vector<FleetRow>& rows, const FleetSelection& selection) {
  size_t changes = 0, actions = 0, in_sync = 0;
  std::vector<std::string> failed;
  for (const FleetRow& r : rows) {
    switch (r.outcome) {
      case FleetOutcome::kChanges:
        ++changes;
        actions += r.actions;
        break;
      case FleetOutcome::kInSync:
        ++in_sync;
        break;
      case FleetOutcome::kFailed:
        failed.push_back(r.cluster.empty() ? r.spec_path : r.cluster);
        break;
    }
  }
  std::string text = fleet_summary_head(rows.size(), selection);
  if (rows.empty()) return text + ": nothing in this shard";
  std::vector<std::string> parts;
  if (changes)
    parts.push_back(
        fmt::format("{} to change ({} action{})", changes, actions, actions == 1 ? "" : "s"));
  if (in_sync) parts.push_back(fmt::format("{} in sync", in_sync));
  if (!failed.empty()) {
    std::string names;
    for (const std::string& n : failed) names += (names.empty() ? "" : ", ") + n;
    parts.push_back(fmt::format("{} failed ({})", failed.size(), names));
  }
  std::string joined;
  for (const std::string& p : parts) joined += (joined.empty() ? "" : ", ") + p;
  return text + ": " + joined;
}

int fleet_exit(const std::vector<FleetRow>& rows, bool changes_exit) {
  bool changes = false;
  for (const FleetRow& r : rows) {
    if (r.outcome == FleetOutcome::kFailed) return kExitError;
    changes = changes || r.outcome == FleetOutcome::kChanges;
  }
  return changes && changes_exit ? kExitChanges : kExitOk;
}

}  // namespace edgecert
