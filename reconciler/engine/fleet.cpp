#include "reconciler/engine/fleet.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/core.h>

#include "providers/base/read_limits.h"

namespace edgecert {

namespace {

constexpr int kMaxDepth = 16;

bool is_yaml_name(const std::string& name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() > suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return !name.empty() && name[0] != '.' && (ends(".yaml") || ends(".yml"));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// What a search of one folder met, for the message when it found nothing
// and the warnings when it found something.
struct Walk {
  std::set<std::string> visited;  // real paths of the folders entered
  bool too_deep = false;          // a folder below the depth limit was left out
  bool hidden = false;            // a name starting with '.' was skipped
  // YAML that mentions edgecert/v1 without a top-level apiVersion line
  // saying so (an indented or misspelt key): left out, and said.
  std::vector<std::string> skipped;
};

// Walks `dir` in name order, appending what looks like a spec. A folder
// reached a second time (a symbolic link back up, or to a sibling) is not
// entered again.
Status walk(Env& env, const std::string& dir, int depth, Walk& w, std::vector<std::string>& out) {
  if (!w.visited.insert(env.real_path(dir)).second) return {};
  auto names = env.list_dir(dir);
  if (!names) return std::unexpected(names.error());
  std::sort(names->begin(), names->end());
  for (const std::string& n : *names) {
    if (n.empty()) continue;
    if (n[0] == '.') {
      w.hidden = true;
      continue;
    }
    const std::string p = path_join(dir, n);
    if (env.is_directory(p)) {
      if (depth + 1 > kMaxDepth) {
        w.too_deep = true;
        continue;
      }
      if (Status st = walk(env, p, depth + 1, w, out); !st) return st;
      continue;
    }
    if (!is_yaml_name(n)) continue;
    // Unreadable or oversized YAML is not taken for a spec: it is somebody
    // else's file. A spec named on the command line is loaded whatever it
    // holds, with the loader's errors.
    auto text = env.read_file(p, read_limits::kSpec);
    if (text && looks_like_spec(*text))
      out.push_back(p);
    else if (text && text->find("edgecert/v1") != std::string::npos)
      w.skipped.push_back(p);
  }
  return {};
}

// The form two spellings of one file share ("a/./b.yaml" and "a/b.yaml").
std::string path_key(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

}  // namespace

bool looks_like_spec(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t key_len = 0;
    for (std::string_view key : {"apiVersion:", "\"apiVersion\":", "'apiVersion':"})
      if (line.substr(0, key.size()) == key) key_len = key.size();
    if (key_len == 0) continue;
    std::string_view value = line.substr(key_len);
    for (std::string_view comment : {" #", "\t#"})
      if (size_t hash = value.find(comment); hash != std::string_view::npos)
        value = value.substr(0, hash);
    value = trim(value);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (value == "edgecert/v1") return true;
  }
  return false;
}

Result<std::vector<std::string>> discover_specs(Env& env, const std::vector<std::string>& paths,
                                                std::vector<std::string>* skipped) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& p : paths) {
    std::vector<std::string> found;
    if (!env.is_directory(p)) {
      found.push_back(p);
    } else {
      Walk w;
      if (Status st = walk(env, p, 0, w, found); !st) return std::unexpected(st.error());
      if (skipped) skipped->insert(skipped->end(), w.skipped.begin(), w.skipped.end());
      if (found.empty()) {
        std::string also;
        if (w.hidden) also += "; names starting with '.' are skipped";
        if (w.too_deep)
          also += fmt::format("; folders more than {} levels down are not searched", kMaxDepth);
        if (!w.skipped.empty())
          also += fmt::format(
              "; {} mentions edgecert/v1 without a top-level 'apiVersion: "
              "edgecert/v1' line",
              w.skipped.front());
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("{}: no spec in this folder or below it (a *.yaml or *.yml "
                                      "file with 'apiVersion: edgecert/v1'){}",
                                      p, also));
      }
    }
    // One file however it is spelled or reached (a symbolic link, an
    // absolute path): counted once, by its first spelling.
    for (std::string& f : found)
      if (seen.insert(env.real_path(f)).second) out.push_back(std::move(f));
  }
  return out;
}

Result<Shard> parse_shard(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("--shard {}: {}", text, why));
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("expected K/N, for example 2/8");
  auto number = [](std::string_view s, unsigned& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  Shard s;
  if (!number(text.substr(0, slash), s.index) || !number(text.substr(slash + 1), s.count))
    return bad("expected K/N with whole numbers, for example 2/8");
  if (s.count < 1 || s.count > 1000) return bad("N must be 1 to 1000");
  if (s.index < 1 || s.index > s.count) return bad(fmt::format("K must be 1 to {}", s.count));
  return s;
}

std::uint64_t cluster_hash(std::string_view cluster) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : cluster) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool in_shard(std::string_view cluster, const Shard& shard) {
  return cluster_hash(cluster) % shard.count == shard.index - 1;
}

std::string node_identity(const node::NodeOpenContext& context, const spec::Spec& spec,
                          const spec::Peer& peer) {
  constexpr std::string_view kSim = "sim://";
  constexpr std::string_view kHttps = "https://";
  const std::string& e = peer.endpoint;
  if (e.compare(0, kSim.size(), kSim) == 0)
    return "sim:" + path_key(path_join(node::effective_sim_dir(context, spec),
                                       e.substr(kSim.size()) + ".json"));
  if (e.compare(0, kHttps.size(), kHttps) != 0) return e;
  std::string rest = e.substr(kHttps.size());
  if (size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  std::string host = rest, port = "443";
  if (!rest.empty() && rest[0] == '[') {
    const size_t close = rest.find(']');
    if (close != std::string::npos) {
      host = rest.substr(0, close + 1);
      if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  // A trailing dot names the same host ("edge1.example.com.").
  if (!host.empty() && host.back() == '.') host.pop_back();
  return fmt::format("https://{}:{}", lower(host), port);
}

std::vector<FleetConflict> fleet_conflicts(const std::vector<FleetMember>& members,
                                           const node::NodeOpenContext& context) {
  struct Owner {
    const FleetMember* member;
    std::string peer;
  };
  std::vector<FleetConflict> out;
  std::map<std::string, const FleetMember*> clusters;
  std::map<std::string, Owner> nodes;
  for (const FleetMember& m : members) {
    if (!m.spec) continue;
    if (auto [it, fresh] = clusters.emplace(m.spec->name, &m); !fresh) {
      out.push_back({m.spec_path, fmt::format("{}: cluster '{}' is also defined in {}", m.spec_path,
                                              m.spec->name, it->second->spec_path)});
      continue;  // its nodes would all be reported again
    }
    for (size_t i = 0; i < m.spec->peers.size(); ++i) {
      const spec::Peer& p = m.spec->peers[i];
      const std::string id = node_identity(context, *m.spec, p);
      auto [it, fresh] = nodes.emplace(id, Owner{&m, p.name});
      if (fresh || it->second.member == &m) continue;  // one spec's own peers: the validator's
      out.push_back({m.spec_path,
                     fmt::format("{}: peers[{}] ({}) reaches {}, as peer {} of cluster '{}' in {} "
                                 "does: one node cannot belong to two clusters",
                                 m.spec_path, i, p.name, id, it->second.peer,
                                 it->second.member->spec->name, it->second.member->spec_path)});
      break;  // one message per spec is enough to act on
    }
  }
  return out;
}

}  // namespace edgecert
