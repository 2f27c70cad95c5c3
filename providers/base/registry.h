// Registry: factories by name (a URL scheme, an issuer type), ccache-style.
//
// The one rule for every registry in edgecert: the last registration for a
// name wins. The binaries register their built-in implementations once at
// start-up (reconciler/cli/wiring.h); a test that registers a fake for the same
// name afterwards replaces the built-in. Registration is explicit, not a
// static initializer, because the layers are static libraries and the linker
// drops object files nobody references. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace edgecert {

template <class Factory>
class Registry {
 public:
  // Registers `factory` for `name`, replacing any earlier one.
  void add(const std::string& name, Factory factory) {
    std::lock_guard lock(mu_);
    factories_[name] = std::move(factory);
  }

  // The factory for `name`, or nullopt.
  std::optional<Factory> find(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = factories_.find(name);
    if (it == factories_.end()) return std::nullopt;
    return it->second;
  }

  // Registered names, sorted.
  std::vector<std::string> names() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& entry : factories_) out.push_back(entry.first);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Factory> factories_;
};

}  // namespace edgecert
