#include "providers/node/builtin.h"

#include "providers/node/node.h"
#include "providers/rest/rest_provider.h"
#include "providers/sim/sim_provider.h"

namespace edgecert::node {

void register_builtin_node_providers() {
  register_node_provider("sim", sim::make_sim_node_provider);
  register_node_provider("https", rest::make_https_node_provider);
}

}  // namespace edgecert::node
