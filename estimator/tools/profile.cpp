// profile: guided layer-wise profiling of this device for one or more
// architectures; writes a DeviceProfile JSON.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>

#include "thor/cli.hpp"
#include "thor/profile_cache.hpp"
#include "thor/profile_plots.hpp"
#include "thor/profiler.hpp"
#include "thor/recipe.hpp"
#include "thor/train.hpp"

namespace po = boost::program_options;

namespace {

// What was profiled: kinds, points, stop reasons, additivity and drift.
void print_summary(const thor::DeviceProfile& profile, const std::string& message,
                   const std::string& meter) {
  size_t points = 0;
  for (const auto& [k, kind] : profile.kinds) points += kind.points.size();
  std::cout << "profiled " << profile.kinds.size() << " layer kinds with " << points
            << " variant networks in " << std::fixed << std::setprecision(1)
            << profile.profile_seconds << " s (" << thor::to_string(profile.settings.kind) << " by "
            << meter << ")\n"
            << message << "\n";
  for (const auto& [key, kind] : profile.kinds)
    std::cout << "  " << std::left << std::setw(64) << key << std::right << std::setw(4)
              << kind.points.size() << " points  " << kind.stop_reason << "\n";
  std::cout << "  data: " << profile.settings.data << "\n";
  if (profile.additivity.anchors > 0)
    std::cout << "  additivity over " << profile.additivity.anchors << " whole networks: scale "
              << std::setprecision(4) << profile.additivity.scale << ", relative std "
              << 100 * profile.additivity.relative_std << "%\n";
  if (profile.reference.measured())
    std::cout << "  host drift during profiling (reference workload): " << std::showpos
              << 100 * (profile.reference.end_joules_per_iteration /
                            profile.reference.joules_per_iteration -
                        1)
              << std::noshowpos << "%\n";
}

// The command line's protocol and profiling settings over the recipe's.
void apply_flags(const po::variables_map& vm, thor::ProfilerOptions& po_) {
  if (vm.count("max-points")) po_.max_points = vm["max-points"].as<int>();
  if (vm.count("std-fraction")) po_.std_fraction = vm["std-fraction"].as<double>();
  if (vm.count("batches")) po_.measure.iterations = vm["batches"].as<int64_t>();
  if (vm.count("repeats")) po_.measure.repeats = vm["repeats"].as<int>();
  if (vm.count("warmup")) po_.measure.warmup = vm["warmup"].as<int64_t>();
  if (vm.count("min-window")) po_.measure.min_window_seconds = vm["min-window"].as<double>();
  if (vm.count("min-warmup")) po_.measure.min_warmup_seconds = vm["min-warmup"].as<double>();
  if (vm.count("no-drift")) po_.track_drift = false;
  if (vm.count("threads")) po_.measure.threads = vm["threads"].as<int>();
  if (vm.count("time-budget")) po_.time_budget_s = vm["time-budget"].as<double>();
  if (vm.count("anchors")) po_.anchors = vm["anchors"].as<int>();
  if (vm.count("quiet")) po_.progress = false;
}

// --reuse: the profile at `out` when it is complete for `archs` under this
// machine's settings (decide_profile: the rule prune and search use).
std::optional<thor::DeviceProfile> reusable(const std::string& out,
                                            const std::vector<thor::Architecture>& archs,
                                            thor::EnergyMeter& meter, const thor::MeterOptions& mo,
                                            const thor::ProfilerOptions& po_) {
  thor::ProfileRequest request;
  request.path = out;
  request.save = false;
  request.architectures = archs;
  request.profiler = po_;
  request.meter_options = mo;
  thor::ProfileDecision d = thor::decide_profile(request, meter);
  if (d.reused) return std::move(d.profile);
  std::cout << d.reason << "; profiling\n";
  return std::nullopt;
}

void draw_plots(const thor::DeviceProfile& profile, const std::string& dir) {
  const auto files = thor::write_profile_plots(profile, dir);
  std::cout << "wrote " << files.size() - 1 << " plots and " << files.back() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  return thor::cli::run("profile", [&]() -> int {
    po::options_description opts("Options");
    std::vector<std::string> arch_paths;
    std::string recipe_path, out, meter_name, journal, data_name, plots_dir;
    thor::ProfilerOptions po_;
    thor::MeterOptions mo;
    auto add = opts.add_options();
    add("arch", po::value(&arch_paths)->multitoken(), "architecture YAML (repeatable)");
    add("recipe", po::value(&recipe_path),
        "take model, data, optimizer, meter and profile settings from a recipe");
    add("data", po::value(&data_name),
        "train variants on this data set (fashion-mnist, mnist, har, har-generated) instead of the "
        "stand-in");
    add("anchors", po::value<int>(), "whole networks measured to check additivity (default 4)");
    add("out", po::value(&out), "profile JSON to write (default: <arch>.profile.json)");
    add("meter", po::value(&meter_name),
        "auto, rapl, nvml, jetson, battery, cpu-model (default auto)");
    add("max-points", po::value<int>(), "most points per 1-D kind (2-D kinds get 1.75x)");
    add("std-fraction", po::value<double>(),
        "stop a kind when its max relative std < this (and its LOO error is low)");
    add("batches", po::value<int64_t>(),
        "measured training iterations per repeat (at least; windows last >= 0.3 s)");
    add("repeats", po::value<int>(), "fresh instances measured per point");
    add("warmup", po::value<int64_t>(), "iterations before each window opens");
    add("min-window", po::value<double>(),
        "seconds a measurement window lasts at least (default 0.25)");
    add("min-warmup", po::value<double>(),
        "seconds the warm-up before each window lasts at least (default 0.15)");
    add("no-drift", "do not re-measure the reference workload between kinds");
    add("threads", po::value<int>(), "LibTorch intra-op threads during measurement");
    add("time-budget", po::value<double>(),
        "seconds; past it, remaining kinds keep only their bounds");
    add("journal", po::value(&journal),
        "measurement journal (default: <out>.journal); resumes from it");
    add("static-watts", po::value(&mo.static_watts)->default_value(mo.static_watts),
        "cpu-model: static watts");
    add("core-watts", po::value(&mo.core_watts)->default_value(mo.core_watts),
        "cpu-model: watts per busy core");
    add("quiet", "no progress output");
    add("reuse",
        "keep --out when it is complete (same settings, every kind over its channel range: the "
        "rule prune and search use) instead of profiling again");
    add("plots", po::value(&plots_dir),
        "also draw one PNG per layer kind (the model with its points) and index.txt into this "
        "folder");
    po::variables_map vm;
    if (!thor::cli::parse(
            argc, argv, "profile",
            "profile --arch A.yaml [--meter M] [--out P.json] [--max-points N] [--batches B] "
            "[--time-budget S] [--reuse] [--plots DIR]\n       profile --recipe R.yaml [--out "
            "P.json] [--reuse] [--plots DIR]",
            opts, vm))
      return 0;
    std::vector<thor::Architecture> archs;
    // The protocol's defaults, the same as `measure` and `estimate --measure`
    // use, so that profiles and measurements compare like with like.
    thor::Dataset data;
    if (!recipe_path.empty()) {
      const thor::Recipe recipe = thor::load_recipe(recipe_path);
      archs.push_back(recipe.model);
      po_ = thor::profiler_options(recipe);
      if (data_name.empty()) data = thor::load_recipe_data(recipe.data, recipe.model.input).first;
      mo = recipe.meter_options;
      if (meter_name.empty()) meter_name = recipe.meter;
      if (out.empty()) out = recipe.profile_path();
    }
    for (const auto& p : arch_paths) archs.push_back(thor::load_architecture(p));
    if (archs.empty())
      throw thor::InputError("give --arch A.yaml or --recipe R.yaml (see profile --help)");
    if (meter_name.empty()) meter_name = "auto";
    apply_flags(vm, po_);
    if (!data_name.empty()) {
      data = thor::load_training_data(data_name, archs.front().input);
    }
    if (data.size() > 0) po_.feed.data = &data;
    if (out.empty())
      out = std::filesystem::path(arch_paths.front()).stem().string() + ".profile.json";
    po_.journal_path = journal.empty() ? out + ".journal" : journal;
    po_.validate();
    if (meter_name == "sim") thor::register_sim_meter();
    auto meter = thor::make_meter(meter_name, mo);
    if (vm.count("reuse")) {
      if (auto cached = reusable(out, archs, *meter, mo, po_)) {
        print_summary(*cached, "reusing the complete profile " + out, meter->describe());
        if (!plots_dir.empty()) draw_plots(*cached, plots_dir);
        return 0;
      }
    }
    const thor::ProfileResult result = thor::run_profiler(archs, *meter, mo, po_);
    const thor::DeviceProfile& profile = result.profile;
    profile.save(out);
    std::filesystem::remove(po_.journal_path);
    print_summary(profile, result.message, meter->describe());
    std::cout << "wrote " << out << "\n";
    if (!plots_dir.empty()) draw_plots(profile, plots_dir);
    return 0;
  });
}
