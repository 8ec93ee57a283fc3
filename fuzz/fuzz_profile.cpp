// DeviceProfile JSON (DeviceProfile::load): loads or ends in one InputError
// naming the file. A profile that loads is used as the estimator uses it:
// an Estimator over it estimates the network the seed profile was made for
// (and a channel variant); those may refuse with an InputError (a kind
// without a model, say) but must not crash or throw anything else.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "fuzz_fixtures.hpp"
#include "thor/estimator.hpp"
#include "thor/profile.hpp"

namespace {

using thor::fuzz::loads_or_input_error;

void use(const thor::DeviceProfile& p) {
  loads_or_input_error(
      [&] { (void)thor::DeviceProfile::from_json(p.to_json(), "round-trip.json"); },
      "round-trip.json");
  (void)thor::fit_flops_baseline(p);
  loads_or_input_error([&] {
    const thor::Estimator est(p);
    const thor::Architecture a = thor::fuzz::tiny_architecture();
    for (const auto& arch : {a, a.with_channels({2, 3})}) {
      const auto r = est.estimate(arch);
      (void)r.full_report();
      (void)est.flops_estimate(arch);
      const auto plan = est.plan(arch);
      std::vector<int64_t> channels = arch.channels();
      channels.pop_back();  // the classes are part of the plan
      (void)est.mean_batch(plan, channels);
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = (thor::fuzz::scratch() / "profile.json").string();
  thor::fuzz::write_bytes(path, data, size);
  thor::DeviceProfile profile;
  if (loads_or_input_error([&] { profile = thor::DeviceProfile::load(path); }, path)) use(profile);
  return 0;
}
