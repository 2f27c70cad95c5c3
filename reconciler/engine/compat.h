// Product and release checks at plan time (issue 11): does each node fit the
// spec before anything is changed?
//
// Errors (each names the node): a node of the other product than
// spec.product; a spec feature that needs a newer release than the node runs
// (ECDSA keys X14.3, FQDN phone security profile names X12.6, the node's ACME
// service X12.5, the X-CSRF-Header every https:// write sends X14.2); a node
// whose own cluster peer list (xConfiguration Alternates) is not the spec's
// peers. Warnings: a node that does not say its product or release (nothing
// can be checked), peers of one cluster on different releases.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reconciler/engine/live_state.h"
#include "schema/spec.h"

namespace edgecert {

// "X14.3.1" (also "x14.3", "X15.0.2-rc1"): major, minor, patch. nullopt when
// it does not read as a release.
struct Release {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const Release&) const = default;
};
std::optional<Release> parse_release(const std::string& version);

struct CompatibilityReport {
  std::vector<std::string> errors;    // "edge1: ..." each
  std::vector<std::string> warnings;  // "edge1: ..." or cluster-wide
};

// Every readable node of `live` against `spec`.
CompatibilityReport check_compatibility(const spec::Spec& spec, const ClusterLive& live);

}  // namespace edgecert
