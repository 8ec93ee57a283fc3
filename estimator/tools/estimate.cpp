// estimate: training energy of an architecture (or a batch of them) from a
// device profile, with an optional measurement beside it, the FLOPs baseline
// for comparison and the estimated-vs-measured scatter plot.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "thor/cli.hpp"
#include "thor/estimate_report.hpp"
#include "thor/estimator.hpp"
#include "thor/protocol.hpp"
#include "thor/recipe.hpp"
#include "thor/train.hpp"

namespace po = boost::program_options;

namespace {

struct Flags {
  std::string data_name, profile_path, meter_name = "auto", baseline, torchscript, input_shape,
                                       layout, plot;
  std::vector<std::string> arch_paths;
  int64_t iterations = 1, batch_size = 32;
  thor::MeterOptions meter_options;
};

void declare(po::options_description& opts, Flags& f) {
  auto add = opts.add_options();
  add("profile", po::value(&f.profile_path)->required(), "DeviceProfile JSON written by `profile`");
  add("arch", po::value(&f.arch_paths),
      "architecture YAML; repeat it for a batch (a table, or a JSON array with --json)");
  add("torchscript", po::value(&f.torchscript), "TorchScript model to estimate instead of --arch");
  add("input-shape", po::value(&f.input_shape),
      "with --torchscript: one sample's shape: C,H,W or F, or with --layout C,L, T,F or T");
  add("layout", po::value(&f.layout),
      "with --torchscript: channels (C,L for Conv1d), sequence (T,F, time first, for LSTM and "
      "Transformer layers) or tokens (T, for Embedding)");
  add("batch-size", po::value(&f.batch_size)->default_value(f.batch_size),
      "with --torchscript: batch size");
  add("iterations", po::value(&f.iterations)->default_value(f.iterations),
      "training iterations for the total");
  add("measure",
      "also measure the architecture with the profile's protocol (after checking the host's "
      "drift) and show the errors");
  add("data", po::value(&f.data_name),
      "with --measure: feed this data set (fashion-mnist, mnist, har, har-generated); default: "
      "what the profile was "
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
  add("json", "print one JSON object (an array for several --arch)");
  add("plot", po::value(&f.plot),
      "with --measure: draw the estimated-vs-measured scatter (±2σ) to this PNG");
}

// The architectures to estimate, each with the name the table and plot use.
std::vector<thor::BatchRow> load_archs(const Flags& f) {
  std::vector<thor::BatchRow> rows;
  const auto name_of = [](const std::string& p) {
    return std::filesystem::path(p).stem().string();
  };
  if (f.torchscript.empty()) {
    if (f.arch_paths.empty())
      throw thor::InputError("give --arch A.yaml or --torchscript model.pt (see estimate --help)");
    for (const auto& p : f.arch_paths)
      rows.push_back({name_of(p), thor::load_architecture(p), {}, {}});
    return rows;
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
  using Layout = thor::Architecture::InputLayout;
  Layout layout = Layout::automatic;
  if (f.layout == "channels")
    layout = Layout::channels;
  else if (f.layout == "sequence")
    layout = Layout::sequence;
  else if (f.layout == "tokens")
    layout = Layout::tokens;
  else if (!f.layout.empty())
    throw thor::InputError("--layout '" + f.layout + "': expected channels, sequence or tokens");
  rows.push_back({name_of(f.torchscript),
                  thor::architecture_from_torchscript(f.torchscript, shape, f.batch_size, layout),
                  {},
                  {}});
  return rows;
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
    m.data = thor::load_training_data(f.data_name, arch.input);
    m.feed.data = &m.data;
  }
  if (f.meter_name == "sim") thor::register_sim_meter();  // named explicitly, as profile allows
  m.meter = thor::make_meter(f.meter_name, f.meter_options);
  // A profile describes the device it was made on: estimating with it is
  // fine anywhere, but measuring here would compare two devices.
  const auto host = thor::host_differences(profile.settings, thor::describe_host());
  if (!host.empty())
    throw thor::InputError(f.profile_path + ": made on another device (" + host.front() +
                           "); --measure here would compare two devices: profile this machine "
                           "first (profile --arch A.yaml --out P.json), or estimate without "
                           "--measure");
  const auto now =
      thor::ProfileSettings::current(*m.meter, f.meter_options, m.protocol, m.feed, arch.input);
  for (const auto& d : profile.settings.differences(now))
    std::cerr << "estimate: warning: profile made under other settings: " << d << "\n";
  if (check_drift && profile.reference.measured()) {
    m.drift = thor::check_drift(profile, *m.meter, m.protocol);
    m.drift->apply(eo);
  }
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

void add_drift(nlohmann::json& j, const MeasureSetup& m) {
  if (!m.drift) return;
  j["drift_ratio"] = m.drift->ratio;
  j["drift_relative_std"] = m.drift->relative_std;
  j["drift_applied"] = m.drift->significant;
}

// One architecture alone; several in interleaved rounds, so that a change of
// the machine's load hits all of them alike.
void measure_rows(std::vector<thor::BatchRow>& rows, MeasureSetup& m) {
  std::vector<thor::Architecture> archs;
  for (const auto& r : rows) archs.push_back(r.architecture);
  if (rows.size() == 1) {
    rows[0].measurement = thor::measure_training(archs[0], *m.meter, m.protocol, m.feed);
    return;
  }
  auto measured = thor::measure_interleaved(archs, *m.meter, m.protocol, m.feed);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].measurement = std::move(measured[i]);
}

// One architecture: its per-block report (or one JSON object).
void print_single(const thor::BatchRow& r, const thor::Estimator& estimator, const Flags& f,
                  const MeasureSetup& m, bool json) {
  nlohmann::json j = thor::estimate_json(r.architecture, r.estimate,
                                         estimator.profile().settings.kind, f.iterations);
  add_drift(j, m);
  if (r.measurement) thor::add_measurement_json(j, *r.measurement, r.estimate);
  if (json)
    std::cout << j.dump(2) << "\n";
  else
    print_text(j, r.estimate, f, m, r.measurement.has_value());
}

// Several architectures: a table (or a JSON array).
void print_batch(const std::vector<thor::BatchRow>& rows, const thor::Estimator& estimator,
                 const Flags& f, const MeasureSetup& m, bool json) {
  const thor::EnergyKind kind = estimator.profile().settings.kind;
  if (json) {
    nlohmann::json a = thor::batch_json(rows, kind, f.iterations);
    for (auto& j : a) add_drift(j, m);
    std::cout << a.dump(2) << "\n";
    return;
  }
  std::cout << rows.size() << " architectures, " << thor::to_string(kind) << " profile\n\n"
            << thor::batch_table(rows, f.iterations) << "basis: " << estimator.basis() << "\n";
  if (m.drift) std::cout << m.drift->message << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  return thor::cli::run("estimate", [&]() -> int {
    po::options_description opts("Options");
    Flags f;
    declare(opts, f);
    po::variables_map vm;
    if (!thor::cli::parse(
            argc, argv, "estimate",
            "estimate --profile P.json --arch A.yaml [--arch B.yaml ...] "
            "[--iterations N] [--measure [--plot S.png]] [--baseline flops] [--json]\n"
            "       estimate --profile P.json --torchscript model.pt --input-shape "
            "C,H,W [--layout channels|sequence|tokens] [--batch-size B]",
            opts, vm))
      return 0;
    if (!f.baseline.empty() && f.baseline != "flops")
      throw thor::InputError("--baseline '" + f.baseline + "': the only baseline is flops");
    if (f.iterations < 1) throw thor::InputError("--iterations must be >= 1");
    const bool measure = vm.count("measure") > 0, json = vm.count("json") > 0;
    if (!f.plot.empty() && !measure) throw thor::InputError("--plot needs --measure");
    std::vector<thor::BatchRow> rows = load_archs(f);
    thor::EstimatorOptions eo;
    eo.flops_fallback = vm.count("flops-fallback") > 0;
    thor::DeviceProfile profile = thor::DeviceProfile::load(f.profile_path);
    MeasureSetup m;
    if (measure)
      prepare_measure(m, f, profile, rows.front().architecture, vm.count("no-drift") == 0, eo);
    const thor::Estimator estimator(std::move(profile), eo);
    for (auto& r : rows) r.estimate = estimator.estimate(r.architecture);
    if (measure) measure_rows(rows, m);
    if (rows.size() > 1)
      print_batch(rows, estimator, f, m, json);
    else
      print_single(rows[0], estimator, f, m, json);
    if (!f.plot.empty()) {
      thor::write_scatter_plot(rows, f.plot, estimator.profile().settings.kind);
      (json ? std::cerr : std::cout) << "wrote " << f.plot << "\n";
    }
    return 0;
  });
}
