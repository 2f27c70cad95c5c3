// The node contract suite over sim:// in-process: once on a MemoryEnv (fast),
// once on real files under a TempDir with a virtual clock (persistence through
// the real filesystem, still no real waiting).
#include <catch2/catch.hpp>

#include "providers/sim/sim_provider.h"
#include "tests/providers/node/contract_suite.h"
#include "tests/providers/sim/sim_test_env.h"
#include "tests/support/test_support.h"

namespace {

using namespace edgecert;

class SimTarget : public testing::ContractTarget {
 public:
  SimTarget(Env& env, std::string dir) : env_(env), ctx_(env) {
    ctx_.sim_dir = std::move(dir);
    spec_.name = "contract";
    spec_.peers = {{"edge1", "edge1.example.com", "sim://edge1"},
                   {"edge2", "edge2.example.com", "sim://edge2"}};
  }
  Env& env() override { return env_; }
  const spec::Spec& spec() override { return spec_; }
  Result<std::unique_ptr<node::NodeProvider>> open(const spec::Peer& peer) override {
    return node::open_node(ctx_, spec_, peer);
  }
  sim::SimNode admin(const spec::Peer& peer) override {
    auto n = sim::sim_node_for(ctx_, spec_, peer);
    REQUIRE(n);
    return std::move(*n);
  }

 private:
  Env& env_;
  node::NodeOpenContext ctx_;
  spec::Spec spec_;
};

// The Env (and folder) must outlive SimTarget, so they live in a base
// constructed before it.
struct MemoryHolder {
  MemoryEnv env;
};
class MemoryTarget : private MemoryHolder, public SimTarget {
 public:
  MemoryTarget() : SimTarget(MemoryHolder::env, "/sim/contract") {}
};

struct FilesHolder {
  testing::TempDir dir;
  testing::PosixFilesVirtualClockEnv env;
};
class FilesTarget : private FilesHolder, public SimTarget {
 public:
  FilesTarget() : SimTarget(FilesHolder::env, dir.file("sim")) {}
};

}  // namespace

EDGECERT_NODE_CONTRACT_TESTS("sim, MemoryEnv", [] {
  return std::unique_ptr<testing::ContractTarget>(new MemoryTarget);
})
EDGECERT_NODE_CONTRACT_TESTS("sim, posix files", [] {
  return std::unique_ptr<testing::ContractTarget>(new FilesTarget);
})
