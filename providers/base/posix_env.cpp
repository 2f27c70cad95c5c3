#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include <fmt/core.h>

#include "providers/base/env.h"

namespace edgecert {
namespace {

Error errno_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = ErrorCode::kIo;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM) code = ErrorCode::kPermission;
  if (err == EEXIST) code = ErrorCode::kAlreadyExists;
  return Error{code, fmt::format("{}: {}: {}", path, what, std::strerror(err))};
}

Status write_all(int fd, const std::string& data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(errno_error("write", path, errno));
    }
    off += static_cast<size_t>(n);
  }
  return {};
}

Error not_regular_file(const std::string& path, mode_t mode) {
  const char* what = S_ISDIR(mode)    ? "a directory"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "not a file";
  return Error{ErrorCode::kInvalidArgument, fmt::format("{}: not a regular file ({})", path, what)};
}

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the descriptor drops the flock.
  ~PosixFileLock() override { ::close(fd_); }

 private:
  int fd_;
};

class PosixEnv final : public Env {
 protected:
  Result<std::string> do_read_file(const std::string& path, std::uint64_t max_bytes) override {
    // stat first so a FIFO or a device is refused without being opened at
    // all (opening a FIFO for reading blocks until a writer comes).
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      return std::unexpected(errno_error("cannot open", path, errno));
    if (!S_ISREG(st.st_mode)) return std::unexpected(not_regular_file(path, st.st_mode));
    // The path may be swapped between stat and open: O_NONBLOCK keeps a FIFO
    // put there from blocking, and fstat on what was opened decides.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return std::unexpected(errno_error("cannot open", path, errno));
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return std::unexpected(errno_error("stat", path, err));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return std::unexpected(not_regular_file(path, st.st_mode));
    }
    // Read in chunks up to one byte over the cap; st_size is only a hint
    // (a /proc file says 0, a growing file says too little).
    std::string out;
    const std::uint64_t want = max_bytes + 1;
    char buf[65536];
    while (out.size() < want) {
      size_t chunk = static_cast<size_t>(std::min<std::uint64_t>(sizeof buf, want - out.size()));
      ssize_t n = ::read(fd, buf, chunk);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return std::unexpected(errno_error("read", path, err));
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

 public:
  Status write_file_atomic(const std::string& path, const std::string& data,
                           unsigned mode) override {
    std::string dir = path_dirname(path);
    std::random_device rd;
    std::string tmp =
        path_join(dir, fmt::format(".{}.tmp.{}.{:x}", path_basename(path), ::getpid(), rd()));
    // Created with the final mode from the start so a secret is never readable
    // by others, not even for the moment between create and chmod.
    int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return std::unexpected(errno_error("cannot create", tmp, errno));
    auto cleanup = [&] {
      ::close(fd);
      ::unlink(tmp.c_str());
    };
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
      int err = errno;
      cleanup();
      return std::unexpected(errno_error("chmod", tmp, err));
    }
    if (auto st = write_all(fd, data, tmp); !st) {
      cleanup();
      return st;
    }
    if (::fsync(fd) != 0) {
      int err = errno;
      cleanup();
      return std::unexpected(errno_error("fsync", tmp, err));
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return std::unexpected(errno_error("rename", path, err));
    }
    sync_dir(dir);
    return {};
  }

  Status create_exclusive(const std::string& path, const std::string& data,
                          unsigned mode) override {
    // The whole file appears at once: written to a temporary file, then
    // link(2)ed to `path` (which fails when `path` exists). A process killed
    // between O_EXCL and write would leave an empty lock file that names no
    // holder, and a reader racing a live creator would see it empty too.
    std::random_device rd;
    std::string tmp = path_join(
        path_dirname(path), fmt::format(".{}.new.{}.{:x}", path_basename(path), ::getpid(), rd()));
    int fd =
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return create_exclusive_in_place(path, data, mode);
    auto st = write_all(fd, data, tmp);
    if (st && ::fsync(fd) != 0) st = std::unexpected(errno_error("fsync", tmp, errno));
    ::close(fd);
    if (st && ::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      if (err == EEXIST) {
        st = std::unexpected(errno_error("cannot create", path, err));
      } else {
        // A file system without hard links: create in place.
        ::unlink(tmp.c_str());
        return create_exclusive_in_place(path, data, mode);
      }
    }
    ::unlink(tmp.c_str());
    sync_dir(path_dirname(path));
    return st;
  }

  static Status create_exclusive_in_place(const std::string& path, const std::string& data,
                                          unsigned mode) {
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return std::unexpected(errno_error("cannot create", path, errno));
    auto st = write_all(fd, data, path);
    if (st && ::fsync(fd) != 0) st = std::unexpected(errno_error("fsync", path, errno));
    ::close(fd);
    if (!st) ::unlink(path.c_str());
    sync_dir(path_dirname(path));
    return st;
  }

  Status append_file(const std::string& path, const std::string& data, unsigned mode) override {
    int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) return std::unexpected(errno_error("cannot open", path, errno));
    auto st = write_all(fd, data, path);
    if (st && ::fsync(fd) != 0) st = std::unexpected(errno_error("fsync", path, errno));
    ::close(fd);
    return st;
  }

  Result<std::unique_ptr<FileLock>> lock_file(const std::string& path) override {
    // flock, not fcntl: fcntl locks belong to the process, so two holders in
    // one process (two threads signing through one CA) would not exclude each
    // other, and closing any descriptor of the file would drop the lock.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return std::unexpected(errno_error("cannot open lock file", path, errno));
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK)
        return make_error(ErrorCode::kConflict, path + ": locked by another process");
      return std::unexpected(errno_error("flock", path, err));
    }
    return std::unique_ptr<FileLock>(std::make_unique<PosixFileLock>(fd));
  }

  bool exists(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  }

  bool is_directory(const std::string& path) override {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  std::string real_path(const std::string& path) override {
    std::unique_ptr<char, decltype(&::free)> resolved(::realpath(path.c_str(), nullptr), ::free);
    return resolved ? std::string(resolved.get()) : Env::real_path(path);
  }

  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (!d) return std::unexpected(errno_error("cannot list", path, errno));
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  Status create_dirs(const std::string& path, unsigned mode) override {
    if (path.empty() || is_directory(path)) return {};
    std::string parent = path_dirname(path);
    if (parent != path) {
      if (auto st = create_dirs(parent, mode); !st) return st;
    }
    if (::mkdir(path.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST) {
      return std::unexpected(errno_error("mkdir", path, errno));
    }
    return {};
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return std::unexpected(errno_error("unlink", path, errno));
    return {};
  }

  Result<unsigned> file_mode(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::unexpected(errno_error("stat", path, errno));
    return static_cast<unsigned>(st.st_mode & 07777);
  }

  TimePoint now() override { return Clock::now(); }

  void sleep_for(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }

  std::optional<std::string> get_env(const std::string& name) override {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  }

 private:
  static void sync_dir(const std::string& dir) {
    int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
};

}  // namespace

std::unique_ptr<Env> make_posix_env() {
  return std::make_unique<PosixEnv>();
}

Env& default_env() {
  static PosixEnv env;
  return env;
}

std::string Env::real_path(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().string();
}

Result<std::string> Env::read_file(const std::string& path, const ReadLimit& limit) {
  auto data = do_read_file(path, limit.max_bytes);
  if (data && data->size() > limit.max_bytes)
    return make_error(
        ErrorCode::kInvalidArgument,
        fmt::format("{} {}: larger than {}", limit.kind, path, format_byte_size(limit.max_bytes)));
  return data;
}

std::string format_byte_size(std::uint64_t bytes) {
  if (bytes >= read_limits::kMiB && bytes % read_limits::kMiB == 0)
    return fmt::format("{} MiB", bytes / read_limits::kMiB);
  if (bytes >= read_limits::kKiB && bytes % read_limits::kKiB == 0)
    return fmt::format("{} KiB", bytes / read_limits::kKiB);
  return fmt::format("{} bytes", bytes);
}

std::string path_join(const std::string& a, const std::string& b) {
  if (a.empty() || a == ".") return b;
  if (b.empty()) return a;
  if (path_is_absolute(b)) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

std::string path_dirname(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string path_basename(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

bool path_is_absolute(const std::string& path) {
  return !path.empty() && path[0] == '/';
}

std::string path_resolve(const std::string& base_dir, const std::string& path) {
  if (path_is_absolute(path)) return path;
  return path_join(base_dir, path);
}

}  // namespace edgecert
