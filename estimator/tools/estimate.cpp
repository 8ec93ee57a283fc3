// estimate: training energy of an architecture from a device profile, with
// an optional measurement beside it and the FLOPs baseline for comparison.
#include <cmath>
#include <iomanip>
#include <memory>
#include <optional>
#include <iostream>

#include "thor/cli.hpp"
#include "thor/recipe.hpp"
#include "thor/estimator.hpp"
#include "thor/protocol.hpp"
#include "thor/train.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  return thor::cli::run("estimate", [&]() -> int {
    po::options_description opts("Options");
    std::string data_name;
    std::string profile_path, arch_path, meter_name = "auto", baseline, torchscript, input_shape;
    int64_t iterations = 1, batch_size = 32;
    thor::MeasureOptions mo;
    thor::MeterOptions meter_opts;
    opts.add_options()
      ("profile", po::value(&profile_path)->required(), "DeviceProfile JSON written by `profile`")
      ("arch", po::value(&arch_path), "architecture YAML")
      ("torchscript", po::value(&torchscript), "TorchScript model to estimate instead of --arch")
      ("input-shape", po::value(&input_shape), "with --torchscript: C,H,W or F")
      ("batch-size", po::value(&batch_size)->default_value(batch_size), "with --torchscript: batch size")
      ("iterations", po::value(&iterations)->default_value(iterations), "training iterations for the total")
      ("measure", "also measure the architecture with the profile's protocol (after checking the host's drift) and show the errors")
      ("data", po::value(&data_name), "with --measure: feed this data set (fashion-mnist, mnist); default: what the profile was made on")
      ("no-drift", "with --measure: do not re-measure the reference workload")
      ("meter", po::value(&meter_name)->default_value(meter_name), "with --measure: the meter")
      ("static-watts", po::value(&meter_opts.static_watts)->default_value(meter_opts.static_watts), "cpu-model: static watts")
      ("core-watts", po::value(&meter_opts.core_watts)->default_value(meter_opts.core_watts), "cpu-model: watts per busy core")
      ("baseline", po::value(&baseline), "flops: also show the FLOPs baseline's estimate")
      ("flops-fallback", "estimate kinds missing from the profile by FLOPs (marked as such)")
      ("json", "print one JSON object");
    po::variables_map vm;
    if (!thor::cli::parse(argc, argv, "estimate",
                          "estimate --profile P.json --arch A.yaml [--iterations N] [--measure] [--baseline flops] [--json]\n"
                          "       estimate --profile P.json --torchscript model.pt --input-shape C,H,W [--batch-size B]",
                          opts, vm))
      return 0;
    if (!baseline.empty() && baseline != "flops")
      throw thor::InputError("--baseline '" + baseline + "': the only baseline is flops");
    if (iterations < 1) throw thor::InputError("--iterations must be >= 1");
    const bool json = vm.count("json") > 0;
    thor::Architecture arch;
    if (!torchscript.empty()) {
      if (input_shape.empty()) throw thor::InputError("--torchscript needs --input-shape C,H,W (or F)");
      std::vector<int64_t> shape;
      std::stringstream ss(input_shape);
      for (std::string part; std::getline(ss, part, ',');) {
        try {
          shape.push_back(std::stoll(part));
        } catch (const std::exception&) {
          throw thor::InputError("--input-shape '" + input_shape + "': expected integers like 1,28,28");
        }
      }
      arch = thor::architecture_from_torchscript(torchscript, shape, batch_size);
    } else if (!arch_path.empty()) {
      arch = thor::load_architecture(arch_path);
    } else {
      throw thor::InputError("give --arch A.yaml or --torchscript model.pt (see estimate --help)");
    }
    thor::EstimatorOptions eo;
    eo.flops_fallback = vm.count("flops-fallback") > 0;
    thor::DeviceProfile profile = thor::DeviceProfile::load(profile_path);
    std::unique_ptr<thor::EnergyMeter> meter;
    thor::Dataset data;
    thor::TrainFeed feed;
    std::optional<thor::DriftCheck> drift;
    if (vm.count("measure")) {
      // Measure like the profile did: its protocol, data and optimizer.
      mo = profile.settings.protocol();
      feed.train.optimizer = profile.settings.optimizer;
      feed.train.lr = profile.settings.lr;
      feed.train.momentum = profile.settings.momentum;
      feed.train.weight_decay = profile.settings.weight_decay;
      if (data_name.empty() && profile.settings.data != thor::kStandIn) {
        const auto slash = profile.settings.data.find('/');
        data_name = profile.settings.data.substr(0, slash);
      }
      if (!data_name.empty()) {
        data = thor::load_training_data(data_name);
        feed.data = &data;
      }
      meter = thor::make_meter(meter_name, meter_opts);
      const auto now = thor::ProfileSettings::current(*meter, meter_opts, mo, feed, arch.input);
      for (const auto& d : profile.settings.differences(now))
        std::cerr << "estimate: warning: profile made under other settings: " << d << "\n";
      if (!vm.count("no-drift") && profile.reference.measured()) {
        drift = thor::check_drift(profile, *meter, mo);
        drift->apply(eo);
      }
    }
    const thor::Estimator estimator(std::move(profile), eo);
    const thor::EstimateResult r = estimator.estimate(arch);

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
      j["layers"].push_back({{"block", l.block}, {"role", thor::to_string(l.role)}, {"kind", l.key},
                             {"features", l.features}, {"joules", l.joules}, {"std", l.std},
                             {"fallback", l.fallback}});
    if (!r.message.empty()) j["message"] = r.message;

    if (drift) {
      j["drift_ratio"] = drift->ratio;
      j["drift_relative_std"] = drift->relative_std;
      j["drift_applied"] = drift->significant;
    }
    if (vm.count("measure")) {
      const thor::Measurement m = thor::measure_training(arch, *meter, mo, feed);
      j["measured_joules_per_iteration"] = m.joules_per_iteration;
      j["measured_cv"] = m.cv;
      j["measured_std_of_median"] = std::sqrt(m.median_variance());
      j["measured_feed"] = m.feed;
      j["measured_kind"] = thor::to_string(m.kind);
      j["error_gp"] = (r.joules_per_iteration - m.joules_per_iteration) / m.joules_per_iteration;
      j["error_flops"] = (r.flops_joules - m.joules_per_iteration) / m.joules_per_iteration;
    }
    if (json) {
      std::cout << j.dump(2) << "\n";
      return 0;
    }
    std::cout << arch.summary() << "\n\n" << r.full_report();
    std::cout << std::setprecision(4) << "for " << iterations << " iterations: " << r.total(iterations) << " J ("
              << j["kind"].get<std::string>() << " profile)\n";
    if (!baseline.empty() || vm.count("measure"))
      std::cout << "FLOPs baseline: " << r.flops_joules << " J/iter (" << r.flops << " FLOPs/iter)\n";
    if (drift) std::cout << drift->message << "\n";
    if (vm.count("measure")) {
      std::cout << "measured: " << j["measured_joules_per_iteration"].get<double>() << " J/iter (cv "
                << 100 * j["measured_cv"].get<double>() << "%)\n"
                << "error: GP " << std::showpos << 100 * j["error_gp"].get<double>() << "%, FLOPs "
                << 100 * j["error_flops"].get<double>() << "%\n";
    }
    return 0;
  });
}
