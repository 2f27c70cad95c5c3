#include "providers/base/fence.h"
#include "reconciler/cli/cli.h"

int main(int argc, char** argv) {
  return edgecert::run_fenced("edgecert", [&] { return edgecert::run_cli(argc, argv); });
}
