// estimate: training energy of an architecture from a device profile, with
// an optional measurement beside it and the FLOPs baseline for comparison.
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "thor/cli.hpp"
#include "thor/estimator.hpp"
#include "thor/protocol.hpp"
#include "thor/recipe.hpp"
#include "thor/train.hpp"

namespace po = boost::program_options;

namespace {

struct Flags {
  std::string data_name, profile_path, arch_path, meter_name = "auto", baseline, torchscript,
                                                  input_shape;
  int64_t iterations = 1, batch_size = 32;
  thor::MeterOptions meter_options;
};

void declare(po::options_description& opts, Flags& f) {
  auto add = opts.add_options();
  add("profile", po::value(&f.profile_path)->required(), "DeviceProfile JSON written by `profile`");
  add("arch", po::value(&f.arch_path), "architecture YAML");
  add("torchscript", po::value(&f.torchscript), "TorchScript model to estimate instead of --arch");
  add("input-shape", po::value(&f.input_shape), "with --torchscript: C,H,W or F");
  add("batch-size", po::value(&f.batch_size)->default_value(f.batch_size),
      "with --torchscript: batch size");
  add("iterations", po::value(&f.iterations)->default_value(f.iterations),
      "training iterations for the total");
  add("measure",
      "also measure the architecture with the profile's protocol (after checking the host's "
      "drift) and show the errors");
  add("data", po::value(&f.data_name),
      "with --measure: feed this data set (fashion-mnist, mnist); default: what the profile was "
      "made on");
  add("no-drift", "with --measure: do not re-measure the reference workload");
  add("meter", po::value(&f.meter_name)->default_value(f.meter_name), "with --measure: the meter");
  add("static-watts",
      po::value(&f.meter_options.static_watts)->default_value(f.meter_options.static_watts),
      "cpu-model: static watts");
  add("core-watts",
      po::value(&f.meter_options.core_watts)->default_value(f.meter_options.core_watts),
      "cpu-model: watts per busy core");
  add("baseline", po::value(&f.baseline), "flops: also show the FLOPs baseline's estimate");
  add("flops-fallback", "estimate kinds missing from the profile by FLOPs (marked as such)");
  add("json", "print one JSON object");
}

thor::Architecture load_arch(const Flags& f) {
  if (f.torchscript.empty()) {
    if (f.arch_path.empty())
      throw thor::InputError("give --arch A.yaml or --torchscript model.pt (see estimate --help)");
    return thor::load_architecture(f.arch_path);
  }
  if (f.input_shape.empty())
    throw thor::InputError("--torchscript needs --input-shape C,H,W (or F)");
  std::vector<int64_t> shape;
  std::stringstream ss(f.input_shape);
  for (std::string part; std::getline(ss, part, ',');) {
    try {
      shape.push_back(std::stoll(part));
    } catch (const std::exception&) {
      throw thor::InputError("--input-shape '" + f.input_shape +
                             "': expected integers like 1,28,28");
    }
  }
  return thor::architecture_from_torchscript(f.torchscript, shape, f.batch_size);
}

// --measure: measure like the profile did (its protocol, data and optimizer),
// after checking how far the host has drifted since.
struct MeasureSetup {
  std::unique_ptr<thor::EnergyMeter> meter;
  thor::MeasureOptions protocol;
  thor::Dataset data;
  thor::TrainFeed feed;
  std::optional<thor::DriftCheck> drift;
};

void prepare_measure(MeasureSetup& m, Flags& f, const thor::DeviceProfile& profile,
                     const thor::Architecture& arch, bool check_drift, thor::EstimatorOptions& eo) {
  m.protocol = profile.settings.protocol();
  m.feed.train.optimizer = profile.settings.optimizer;
  m.feed.train.lr = profile.settings.lr;
  m.feed.train.momentum = profile.settings.momentum;
  m.feed.train.weight_decay = profile.settings.weight_decay;
  if (f.data_name.empty() && profile.settings.data != thor::kStandIn)
    f.data_name = profile.settings.data.substr(0, profile.settings.data.find('/'));
  if (!f.data_name.empty()) {
    m.data = thor::load_training_data(f.data_name);
    m.feed.data = &m.data;
  }
  m.meter = thor::make_meter(f.meter_name, f.meter_options);
  const auto now =
      thor::ProfileSettings::current(*m.meter, f.meter_options, m.protocol, m.feed, arch.input);
  for (const auto& d : profile.settings.differences(now))
    std::cerr << "estimate: warning: profile made under other settings: " << d << "\n";
  if (check_drift && profile.reference.measured()) {
    m.drift = thor::check_drift(profile, *m.meter, m.protocol);
    m.drift->apply(eo);
  }
}

nlohmann::json estimate_json(const thor::Architecture& arch, const thor::Estimator& estimator,
                             const thor::EstimateResult& r, int64_t iterations) {
  nlohmann::json j;
  j["architecture"] = arch.summary();
  j["joules_per_iteration"] = r.joules_per_iteration;
  j["std"] = r.std;
  j["model_std"] = r.model_std;
  j["basis"] = r.basis;
  j["iterations"] = iterations;
  j["joules_total"] = r.total(iterations);
  j["kind"] = thor::to_string(estimator.profile().settings.kind);
  j["flops_per_iteration"] = r.flops;
  j["flops_joules_per_iteration"] = r.flops_joules;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : r.layers)
    j["layers"].push_back({{"block", l.block},
                           {"role", thor::to_string(l.role)},
                           {"kind", l.key},
                           {"features", l.features},
                           {"joules", l.joules},
                           {"std", l.std},
                           {"fallback", l.fallback}});
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

void add_measurement(nlohmann::json& j, const thor::Measurement& m, const thor::EstimateResult& r) {
  j["measured_joules_per_iteration"] = m.joules_per_iteration;
  j["measured_cv"] = m.cv;
  j["measured_std_of_median"] = std::sqrt(m.median_variance());
  j["measured_feed"] = m.feed;
  j["measured_kind"] = thor::to_string(m.kind);
  j["error_gp"] = (r.joules_per_iteration - m.joules_per_iteration) / m.joules_per_iteration;
  j["error_flops"] = (r.flops_joules - m.joules_per_iteration) / m.joules_per_iteration;
}

void print_text(const nlohmann::json& j, const thor::EstimateResult& r, const Flags& f,
                const MeasureSetup& m, bool measured) {
  std::cout << j["architecture"].get<std::string>() << "\n\n" << r.full_report();
  std::cout << std::setprecision(4) << "for " << f.iterations
            << " iterations: " << r.total(f.iterations) << " J (" << j["kind"].get<std::string>()
            << " profile)\n";
  if (!f.baseline.empty() || measured)
    std::cout << "FLOPs baseline: " << r.flops_joules << " J/iter (" << r.flops << " FLOPs/iter)\n";
  if (m.drift) std::cout << m.drift->message << "\n";
  if (measured)
    std::cout << "measured: " << j["measured_joules_per_iteration"].get<double>() << " J/iter (cv "
              << 100 * j["measured_cv"].get<double>() << "%)\n"
              << "error: GP " << std::showpos << 100 * j["error_gp"].get<double>() << "%, FLOPs "
              << 100 * j["error_flops"].get<double>() << "%\n";
}

}  // namespace

int main(int argc, char** argv) {
  return thor::cli::run("estimate", [&]() -> int {
    po::options_description opts("Options");
    Flags f;
    declare(opts, f);
    po::variables_map vm;
    if (!thor::cli::parse(argc, argv, "estimate",
                          "estimate --profile P.json --arch A.yaml [--iterations N] [--measure] "
                          "[--baseline flops] [--json]\n"
                          "       estimate --profile P.json --torchscript model.pt --input-shape "
                          "C,H,W [--batch-size B]",
                          opts, vm))
      return 0;
    if (!f.baseline.empty() && f.baseline != "flops")
      throw thor::InputError("--baseline '" + f.baseline + "': the only baseline is flops");
    if (f.iterations < 1) throw thor::InputError("--iterations must be >= 1");
    const thor::Architecture arch = load_arch(f);
    thor::EstimatorOptions eo;
    eo.flops_fallback = vm.count("flops-fallback") > 0;
    thor::DeviceProfile profile = thor::DeviceProfile::load(f.profile_path);
    const bool measure = vm.count("measure") > 0;
    MeasureSetup m;
    if (measure) prepare_measure(m, f, profile, arch, vm.count("no-drift") == 0, eo);
    const thor::Estimator estimator(std::move(profile), eo);
    const thor::EstimateResult r = estimator.estimate(arch);
    nlohmann::json j = estimate_json(arch, estimator, r, f.iterations);
    if (m.drift) {
      j["drift_ratio"] = m.drift->ratio;
      j["drift_relative_std"] = m.drift->relative_std;
      j["drift_applied"] = m.drift->significant;
    }
    if (measure) add_measurement(j, thor::measure_training(arch, *m.meter, m.protocol, m.feed), r);
    if (vm.count("json"))
      std::cout << j.dump(2) << "\n";
    else
      print_text(j, r, f, m, measure);
    return 0;
  });
}
