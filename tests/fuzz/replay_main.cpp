// fuzz-replay-<name>: runs one fuzz target's LLVMFuzzerTestOneInput over
// every file in the folders (or files) given, in name order, without libFuzzer,
// so the corpus and the saved crashes are replayed by ctest in every build
// (fuzz.replay.<name>). A crash or sanitizer report fails the test; a file
// that cannot be read fails it too (a corpus that silently shrinks to nothing
// tests nothing). Prints the file count, and each file before it runs when
// FUZZ_REPLAY_VERBOSE is set, so a crash names its input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_input.h"

namespace fs = std::filesystem;

namespace {

bool is_input(const fs::path& p) {
  // .gitkeep and notes (README*) sit next to crash files.
  const std::string name = p.filename().string();
  return name != ".gitkeep" && name.rfind("README", 0) != 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FOLDER_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const fs::path arg = argv[i];
    if (fs::is_directory(arg, ec)) {
      for (const auto& entry : fs::recursive_directory_iterator(arg, ec))
        if (entry.is_regular_file() && is_input(entry.path())) files.push_back(entry.path());
      if (ec) {
        std::fprintf(stderr, "%s: %s\n", argv[i], ec.message().c_str());
        return 2;
      }
    } else if (fs::is_regular_file(arg, ec)) {
      files.push_back(arg);
    } else {
      std::fprintf(stderr, "%s: not a file or folder\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  const bool verbose = std::getenv("FUZZ_REPLAY_VERBOSE") != nullptr;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "%s: cannot read\n", file.c_str());
      return 2;
    }
    if (verbose) std::fprintf(stderr, "replay %s\n", file.c_str());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
