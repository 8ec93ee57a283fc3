// measure: joules per training iteration of an architecture, or joules of
// any command, with one of thor's energy meters.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "thor/architecture.hpp"
#include "thor/cli.hpp"
#include "thor/meter.hpp"
#include "thor/protocol.hpp"
#include "thor/recipe.hpp"
#include "thor/train.hpp"

namespace po = boost::program_options;

namespace {

int run_command(thor::EnergyMeter& meter, const std::vector<std::string>& command, bool json) {
  std::vector<char*> args;
  for (const auto& a : command) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  meter.start();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    execvp(args[0], args.data());
    std::cerr << "measure: error: cannot run '" << command[0] << "': " << std::strerror(errno)
              << "\n";
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const thor::EnergyReading r = meter.stop();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code == 127) throw thor::InputError("command '" + command[0] + "' could not be run");
  if (json) {
    nlohmann::json j{{"joules", r.joules},
                     {"seconds", r.seconds},
                     {"kind", thor::to_string(r.kind)},
                     {"meter", meter.name()},
                     {"exit_code", code}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << std::setprecision(6) << r.joules << " J in " << r.seconds << " s ("
              << thor::to_string(r.kind) << ", meter " << meter.describe() << "); command exited "
              << code << "\n";
  }
  return code == 0 ? 0 : 1;
}

}  // namespace

// The measurement as JSON or as text.
void print_measurement(const thor::Architecture& arch, const std::string& arch_path,
                       const thor::Measurement& m, const thor::MeasureOptions& mo,
                       const std::string& meter, bool json) {
  if (json) {
    nlohmann::json j{{"architecture", arch_path},
                     {"joules_per_iteration", m.joules_per_iteration},
                     {"seconds_per_iteration", m.seconds_per_iteration},
                     {"std", m.std},
                     {"cv", m.cv},
                     {"repeats", m.repeat_joules.size()},
                     {"rejected", m.rejected},
                     {"repeat_joules_per_iteration", m.repeat_joules},
                     {"repeat_seconds_per_iteration", m.repeat_seconds},
                     {"iterations", m.iterations},
                     {"std_of_median", std::sqrt(m.median_variance())},
                     {"feed", m.feed},
                     {"threads", m.threads},
                     {"flush_denormal", m.flush_denormal},
                     {"kind", thor::to_string(m.kind)},
                     {"meter", m.meter},
                     {"train_flops_per_iteration", arch.train_flops()},
                     {"foreign_load_cores", m.foreign_load},
                     {"busy_retries", m.retried}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << arch.summary() << "\n"
              << std::setprecision(4) << "  " << m.joules_per_iteration << " J/iter  "
              << m.seconds_per_iteration * 1e3 << " ms/iter  cv " << m.cv * 100 << "%  ("
              << m.repeat_joules.size() << " repeats, " << m.rejected << " rejected, " << m.threads
              << " thread(s), " << thor::to_string(m.kind) << " by " << meter << ")\n"
              << "  fed: " << m.feed << "\n";
    if (m.foreign_load > mo.busy_cores)
      std::cout << "  warning: other processes kept " << m.foreign_load
                << " cores busy during the measurement; figures may be inflated\n";
  }
}

int main(int argc, char** argv) {
  return thor::cli::run("measure", [&]() -> int {
    // Split off "-- COMMAND ARGS..." before option parsing.
    std::vector<std::string> command;
    int own_argc = argc;
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], "--") == 0) {
        own_argc = i;
        for (int k = i + 1; k < argc; ++k) command.emplace_back(argv[k]);
        break;
      }
    po::options_description opts("Options");
    thor::MeasureOptions mo;
    thor::MeterOptions meter_opts;
    thor::TrainFeed feed;
    thor::Dataset data;
    std::string arch_path, meter_name = "auto", data_name;
    auto add = opts.add_options();
    add("arch", po::value(&arch_path), "architecture YAML to train and measure");
    add("iterations", po::value(&mo.iterations)->default_value(mo.iterations),
        "measured iterations per repeat (at least)");
    add("min-window", po::value(&mo.min_window_seconds)->default_value(mo.min_window_seconds),
        "seconds a window lasts at least");
    add("min-warmup", po::value(&mo.min_warmup_seconds)->default_value(mo.min_warmup_seconds),
        "seconds the warm-up lasts at least");
    add("data", po::value(&data_name),
        "train on this data set (fashion-mnist, mnist, har, har-generated) instead of the "
        "stand-in");
    add("optimizer", po::value(&feed.train.optimizer)->default_value(feed.train.optimizer),
        "sgd or adam");
    add("lr", po::value(&feed.train.lr)->default_value(feed.train.lr), "learning rate");
    add("momentum", po::value(&feed.train.momentum)->default_value(feed.train.momentum),
        "sgd momentum");
    add("weight-decay", po::value(&feed.train.weight_decay)->default_value(feed.train.weight_decay),
        "weight decay");
    add("repeats", po::value(&mo.repeats)->default_value(mo.repeats),
        "fresh model instances measured");
    add("warmup", po::value(&mo.warmup)->default_value(mo.warmup),
        "warm-up iterations before each window");
    add("threads", po::value(&mo.threads)->default_value(mo.threads),
        "LibTorch intra-op threads (pinned)");
    add("no-flush-denormal", "keep denormal floats (slower; for experiments)");
    add("no-pin-allocator",
        "leave glibc malloc's dynamic thresholds alone (for experiments; also set "
        "THOR_NO_PIN_ALLOCATOR=1)");
    add("device", po::value(&mo.device)->default_value(mo.device), "cpu or cuda");
    add("meter", po::value(&meter_name)->default_value(meter_name),
        "auto, rapl, nvml, jetson, battery, cpu-model");
    add("static-watts", po::value(&meter_opts.static_watts)->default_value(meter_opts.static_watts),
        "cpu-model: static watts");
    add("core-watts", po::value(&meter_opts.core_watts)->default_value(meter_opts.core_watts),
        "cpu-model: watts per busy core");
    add("json", "print one JSON object");
    po::variables_map vm;
    if (!thor::cli::parse(own_argc, argv, "measure",
                          "measure --arch A.yaml [--iterations N] [--meter M] [--json]\n"
                          "       measure [--meter M] [--json] -- COMMAND ARGS...",
                          opts, vm))
      return 0;
    mo.flush_denormal = vm.count("no-flush-denormal") == 0;
    mo.pin_allocator = vm.count("no-pin-allocator") == 0;
    const bool json = vm.count("json") > 0;
    if (arch_path.empty() == command.empty())
      throw thor::InputError(
          "give either --arch A.yaml or -- COMMAND ARGS... (see measure --help)");
    mo.validate();
    auto meter = thor::make_meter(meter_name, meter_opts);
    if (!command.empty()) return run_command(*meter, command, json);

    const thor::Architecture arch = thor::load_architecture(arch_path);
    thor::check_device(mo.device);
    if (!data_name.empty()) {
      data = thor::load_training_data(data_name, arch.input);
      feed.data = &data;
    }
    const thor::Measurement m = thor::measure_training(arch, *meter, mo, feed);
    print_measurement(arch, arch_path, m, mo, meter->describe(), json);
    return 0;
  });
}
