// Env::read_file caps and file-type refusals (issue 16 defect 3): every Env
// refuses devices, FIFOs and directories naming the file, and stops one byte
// past the cap naming the file, its kind and the cap.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <future>

#include "providers/base/env.h"
#include "providers/base/env_wrapper.h"
#include "providers/base/fault_env.h"
#include "providers/base/read_limits.h"
#include "tests/support/test_support.h"

using namespace edgecert;

namespace {

constexpr ReadLimit kTiny{"tiny file", 8};

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

void check_not_regular(const Result<std::string>& r, const std::string& path) {
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.rfind(path + ": not a regular file", 0) == 0);
}

void check_over_cap(const Result<std::string>& r, const std::string& kind, const std::string& path,
                    const std::string& cap) {
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message == kind + " " + path + ": larger than " + cap);
}

}  // namespace

TEST_CASE("read limits: caps are printed as people read them", "[env][read_limits]") {
  CHECK(format_byte_size(16 * read_limits::kMiB) == "16 MiB");
  CHECK(format_byte_size(4 * read_limits::kKiB) == "4 KiB");
  CHECK(format_byte_size(8) == "8 bytes");
  CHECK(format_byte_size(1536) == "1536 bytes");
  CHECK(read_limits::kCrl.max_bytes == 16u * 1024 * 1024);
  CHECK(read_limits::kSecret.max_bytes == 4096u);
}

TEST_CASE("posix env: read_file honours the cap of the kind", "[env][read_limits]") {
  testing::TempDir dir;
  auto env = make_posix_env();
  SECTION("a regular file up to the cap is read whole") {
    std::string p = dir.write("eight", "12345678");
    auto r = env->read_file(p, kTiny);
    REQUIRE(r);
    CHECK(*r == "12345678");
  }
  SECTION("one byte over the cap is refused, naming file, kind and cap") {
    std::string p = dir.write("nine", "123456789");
    check_over_cap(env->read_file(p, kTiny), "tiny file", p, "8 bytes");
  }
  SECTION("a 17 MiB file is over the trusted CA cap") {
    std::string p = dir.write("big.pem", std::string(17 * read_limits::kMiB, 'A'));
    check_over_cap(env->read_file(p, read_limits::kTrustedCa), "trusted CA file", p, "16 MiB");
  }
  SECTION("/dev/zero is refused before reading") {
    check_not_regular(env->read_file("/dev/zero", read_limits::kSecret), "/dev/zero");
    check_not_regular(env->read_file("/dev/urandom", read_limits::kCaBundle), "/dev/urandom");
  }
  SECTION("a symlink to /dev/zero is refused") {
    std::string link = dir.file("zero.pem");
    REQUIRE(::symlink("/dev/zero", link.c_str()) == 0);
    check_not_regular(env->read_file(link, read_limits::kCrl), link);
  }
  SECTION("a directory is refused") {
    check_not_regular(env->read_file(dir.path(), read_limits::kState), dir.path());
  }
  SECTION("a FIFO is refused without blocking") {
    std::string fifo = dir.file("pipe");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Run the read on another thread: a blocking open would hang the test;
    // here it fails after two seconds (a writer opened then closed
    // releases the stuck reader so the test can end).
    auto read = std::async(std::launch::async,
                           [&] { return make_posix_env()->read_file(fifo, read_limits::kSecret); });
    auto status = read.wait_for(std::chrono::seconds(2));
    if (status != std::future_status::ready) {
      int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (w >= 0) ::close(w);
    }
    REQUIRE(status == std::future_status::ready);
    check_not_regular(read.get(), fifo);
  }
  SECTION("a socket is refused") {
    std::string sock = dir.file("s");
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(sock.size() < sizeof addr.sun_path);
    std::copy(sock.begin(), sock.end(), addr.sun_path);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    check_not_regular(env->read_file(sock, read_limits::kState), sock);
    ::close(fd);
  }
  SECTION("a /proc file (size 0 in stat) is read to its end") {
    auto r = env->read_file("/proc/self/status", read_limits::kState);
    REQUIRE(r);
    CHECK(contains(*r, "Name:"));
  }
}

TEST_CASE("memory env: read_file honours the cap and refuses folders", "[env][read_limits]") {
  MemoryEnv env;
  env.put("/d/eight", "12345678");
  env.put("/d/nine", "123456789");
  CHECK(*env.read_file("/d/eight", kTiny) == "12345678");
  check_over_cap(env.read_file("/d/nine", kTiny), "tiny file", "/d/nine", "8 bytes");
  check_not_regular(env.read_file("/d", kTiny), "/d");
  auto missing = env.read_file("/d/none", kTiny);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
}

TEST_CASE("wrappers enforce the same cap as the Env they wrap", "[env][read_limits]") {
  MemoryEnv mem;
  mem.put("/nine", "123456789");
  FaultInjectionEnv fault(mem);
  EnvWrapper wrapper(fault);
  check_over_cap(fault.read_file("/nine", kTiny), "tiny file", "/nine", "8 bytes");
  check_over_cap(wrapper.read_file("/nine", kTiny), "tiny file", "/nine", "8 bytes");
  CHECK(*wrapper.read_file("/nine", read_limits::kState) == "123456789");
}
