// EnvWrapper: an Env that passes every call to another one (leveldb's
// EnvWrapper). Wrappers that change one behaviour — how sleeping ends, what
// a wait reports — derive from it and override only that, so a method added
// to Env needs one forwarder here instead of one per wrapper.
#pragma once

#include "providers/base/env.h"

namespace edgecert {

class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env& target) : target_(target) {}
  Env& target() const { return target_; }

  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override {
    return target_.write_file_atomic(path, data, mode);
  }
  Status create_exclusive(const std::string& path, const std::string& data,
                          unsigned mode) override {
    return target_.create_exclusive(path, data, mode);
  }
  Status append_file(const std::string& path, const std::string& data, unsigned mode) override {
    return target_.append_file(path, data, mode);
  }
  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    return target_.lock_file(path);
  }
  bool exists(const std::string& path) override { return target_.exists(path); }
  bool is_directory(const std::string& path) override { return target_.is_directory(path); }
  std::string real_path(const std::string& path) override { return target_.real_path(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    return target_.list_dir(path);
  }
  Status create_dirs(const std::string& path, unsigned mode) override {
    return target_.create_dirs(path, mode);
  }
  Status remove_file(const std::string& path) override { return target_.remove_file(path); }
  Result<unsigned> file_mode(const std::string& path) override { return target_.file_mode(path); }
  TimePoint now() override { return target_.now(); }
  void sleep_for(std::chrono::milliseconds duration) override { target_.sleep_for(duration); }
  std::optional<std::string> get_env(const std::string& name) override {
    return target_.get_env(name);
  }

 protected:
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override {
    return forward_read_file(target_, path, max_bytes);
  }

 private:
  Env& target_;
};

}  // namespace edgecert
