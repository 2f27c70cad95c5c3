#include <algorithm>
#include <set>

#include "providers/base/env.h"

namespace edgecert {
namespace {

std::string normalize(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  return p;
}

}  // namespace

MemoryEnv::MemoryEnv(TimePoint start) : now_(start) {}

Result<std::string> MemoryEnv::do_read_file(const std::string& path, std::uint64_t max_bytes) {
  auto it = files_.find(normalize(path));
  if (it == files_.end()) {
    if (dirs_.count(normalize(path)))
      return make_error(ErrorCode::kInvalidArgument, path + ": not a regular file (a directory)");
    return make_error(ErrorCode::kNotFound, path + ": cannot open: No such file or directory");
  }
  // Like the POSIX Env: never more than one byte over the cap.
  const std::string& data = it->second.data;
  return data.substr(0, static_cast<size_t>(std::min<std::uint64_t>(data.size(), max_bytes + 1)));
}

Status MemoryEnv::write_file_atomic(const std::string& path, const std::string& data,
                                    unsigned mode) {
  std::string p = normalize(path);
  std::string dir = path_dirname(p);
  if (dir != "." && dir != "/" && !dirs_.count(dir))
    return make_error(ErrorCode::kNotFound, path + ": cannot create: No such file or directory");
  files_[p] = File{data, mode};
  return {};
}

Status MemoryEnv::create_exclusive(const std::string& path, const std::string& data,
                                   unsigned mode) {
  if (exists(path))
    return make_error(ErrorCode::kAlreadyExists, path + ": cannot create: File exists");
  return write_file_atomic(path, data, mode);
}

Status MemoryEnv::append_file(const std::string& path, const std::string& data, unsigned mode) {
  std::string p = normalize(path);
  auto it = files_.find(p);
  if (it == files_.end()) return write_file_atomic(p, data, mode);
  it->second.data += data;
  return {};
}

namespace {
class MemoryFileLock final : public FileLock {
 public:
  MemoryFileLock(std::shared_ptr<std::set<std::string>> locked, std::string path)
      : locked_(std::move(locked)), path_(std::move(path)) {}
  ~MemoryFileLock() override { locked_->erase(path_); }

 private:
  std::shared_ptr<std::set<std::string>> locked_;
  std::string path_;
};
}  // namespace

Result<std::unique_ptr<FileLock>> MemoryEnv::lock_file(const std::string& path) {
  std::string p = normalize(path);
  if (locked_->count(p))
    return make_error(ErrorCode::kConflict, p + ": cannot lock: held by another holder");
  if (!files_.count(p)) {
    if (auto st = write_file_atomic(p, "", 0600); !st) return std::unexpected(st.error());
  }
  locked_->insert(p);
  return std::unique_ptr<FileLock>(std::make_unique<MemoryFileLock>(locked_, p));
}

bool MemoryEnv::exists(const std::string& path) {
  std::string p = normalize(path);
  return files_.count(p) || dirs_.count(p);
}

bool MemoryEnv::is_directory(const std::string& path) {
  return dirs_.count(normalize(path)) > 0;
}

Result<std::vector<std::string>> MemoryEnv::list_dir(const std::string& path) {
  std::string p = normalize(path);
  if (!dirs_.count(p)) return make_error(ErrorCode::kNotFound, path + ": cannot list");
  std::set<std::string> names;
  auto collect = [&](const std::string& entry) {
    if (path_dirname(entry) == p) names.insert(path_basename(entry));
  };
  for (auto& [k, v] : files_) collect(k);
  for (auto& [k, v] : dirs_) collect(k);
  return std::vector<std::string>(names.begin(), names.end());
}

Status MemoryEnv::create_dirs(const std::string& path, unsigned mode) {
  std::string p = normalize(path);
  while (!p.empty() && p != "." && p != "/") {
    if (files_.count(p)) return make_error(ErrorCode::kAlreadyExists, p + ": is a file");
    dirs_.emplace(p, mode);
    p = path_dirname(p);
  }
  return {};
}

Status MemoryEnv::remove_file(const std::string& path) {
  if (!files_.erase(normalize(path)))
    return make_error(ErrorCode::kNotFound, path + ": unlink: No such file or directory");
  return {};
}

Result<unsigned> MemoryEnv::file_mode(const std::string& path) {
  auto it = files_.find(normalize(path));
  if (it == files_.end()) return make_error(ErrorCode::kNotFound, path + ": stat: not found");
  return it->second.mode;
}

std::optional<std::string> MemoryEnv::get_env(const std::string& name) {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

void MemoryEnv::put(const std::string& path, const std::string& data, unsigned mode) {
  std::string p = normalize(path);
  (void)create_dirs(path_dirname(p), 0755);
  files_[p] = File{data, mode};
}

}  // namespace edgecert
