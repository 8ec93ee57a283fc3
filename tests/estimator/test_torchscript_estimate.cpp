// Estimating PyTorch models end to end: torchvision's resnet18 and a
// Transformer encoder classifier, scripted in Python (the fixture
// torchscript_models), read by architecture_from_torchscript, profiled on
// the synthetic device and estimated. The sim device is additive by
// construction, so the estimate must land on its truth within the
// estimator's own uncertainty (its channel ripple is not resolvable over
// resnet18's 64..512 channels with 16 points a kind, so not closer).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include "thor/estimator.hpp"
#include "thor/profiler.hpp"
#include "thor/train.hpp"
#include "thor_sim_profile.hpp"
#include "thor_test_support.hpp"

using namespace thor;

namespace {

std::string model(const std::string& name) {
  const char* dir = std::getenv("THOR_BINARY_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "run through CTest (THOR_BINARY_DIR is not set)");
  return std::string(dir) + "/test-out/torchscript-models/" + name + ".pt";
}

struct Check {
  double error;     // estimate / truth - 1
  double relative;  // std / estimate
};

// Profiles `arch` on the sim device and estimates it.
Check estimate_on_sim(const Architecture& arch) {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const ProfilerOptions o = test::sim_profiler_options(16);
  const ProfileResult r = run_profiler({arch}, *meter, mo, o);
  const EstimateResult e = Estimator(r.profile).estimate(arch);
  REQUIRE(e.joules_per_iteration > 0.0);
  return {e.joules_per_iteration / sim_joules_per_iteration(arch) - 1.0,
          e.std / e.joules_per_iteration};
}

}  // namespace

TEST_CASE("torchvision resnet18 scripted in Python is profiled and estimated") {
  const Architecture a = architecture_from_torchscript(model("resnet18"), {3, 32, 32}, 8);
  int residuals = 0;
  for (const auto& l : a.layers) residuals += l.type == LayerType::residual;
  CHECK(residuals == 8);
  const Check c = estimate_on_sim(a);
  MESSAGE("resnet18: estimate / truth - 1 = " << 100.0 * c.error << "%, std " << 100.0 * c.relative
                                              << "%");
  CHECK(std::fabs(c.error) < 0.10);
  CHECK(std::fabs(c.error) < 3.0 * c.relative);
}

TEST_CASE("a Transformer encoder classifier scripted in Python is profiled and estimated") {
  const Architecture a = architecture_from_torchscript(model("transformer"), {28, 28}, 8,
                                                       Architecture::InputLayout::sequence);
  int encoders = 0;
  for (const auto& l : a.layers) encoders += l.type == LayerType::encoder;
  CHECK(encoders == 2);
  const Check c = estimate_on_sim(a);
  MESSAGE("transformer: estimate / truth - 1 = " << 100.0 * c.error << "%, std "
                                                 << 100.0 * c.relative << "%");
  CHECK(std::fabs(c.error) < 0.03);
  CHECK(std::fabs(c.error) < 3.0 * c.relative);
}
