// Run logs (thor/run_log.hpp): the CSV's header and SI units, quoting, the
// JSON lines, windows recorded through the logging meter with their phase,
// and nothing left behind without commit().
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "thor/architecture.hpp"
#include "thor/error.hpp"
#include "thor/run_log.hpp"

namespace fs = std::filesystem;
using namespace thor;

namespace {

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A meter whose every window is 2 J over 0.5 s.
class FixedMeter final : public EnergyMeter {
 public:
  std::string name() const override { return "fixed"; }
  EnergyKind kind() const override { return EnergyKind::modelled; }
  void start() override {}
  EnergyReading stop() override { return {2.0, 0.5, EnergyKind::modelled}; }
};

fs::path fresh_folder(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("thor-run-log-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

}  // namespace

TEST_CASE("run log: header with SI units, one row per window and estimate, JSON lines alike") {
  const fs::path dir = fresh_folder("rows");
  {
    RunLog log(RunLogOptions{dir.string(), "run_log", "run-1", "prune", "cpu, 2 cores", "fixed"});
    const ScopedRunLog active(&log);
    auto meter = logging_meter(std::make_unique<FixedMeter>());
    const Architecture arch = architecture_from_yaml_text(
        "input: [1, 28, 28]\nbatch_size: 8\nlayers:\n  - flatten\n  - linear: {out: 10}\n");
    {
      const RunLogContext phase("baseline");
      meter->set_workload(Workload{&arch, 40, nullptr});
      meter->start();
      (void)meter->stop();
    }
    RunRecord est;
    est.what = "candidate";
    est.subject = "[estimator] 4, 8";  // a comma: must be quoted in the CSV
    est.source = "estimated";
    est.iterations = 1000;
    est.energy_J = 12.5;
    est.spread = 0.04;
    log_run_record(est);
    CHECK(log.rows() == 2);
    CHECK_FALSE(fs::exists(dir / "run_log.csv"));  // not before commit
    log.commit();
  }
  const auto csv = lines((dir / "run_log.csv").string());
  REQUIRE(csv.size() == 3);
  CHECK(csv[0] ==
        "run_id,timestamp_utc,program,host,meter,source,what,subject,iterations,energy_J,"
        "duration_s,power_W,energy_per_iteration_J,spread");
  CHECK(csv[1].rfind("run-1,", 0) == 0);
  CHECK(csv[1].find(",prune,\"cpu, 2 cores\",fixed,modelled,baseline,\"[1,28,28] b8: flatten "
                    "linear(10)\",40,") != std::string::npos);
  CHECK(csv[1].find(",40,2,0.5,4,0.05,") != std::string::npos);  // J, s, W, J/iter
  CHECK(csv[2].find(",estimated,candidate,\"[estimator] 4, 8\",1000,12.5,,,0.0125,0.04") !=
        std::string::npos);
  const auto jl = lines((dir / "run_log.jsonl").string());
  REQUIRE(jl.size() == 2);
  const auto j0 = nlohmann::json::parse(jl[0]), j1 = nlohmann::json::parse(jl[1]);
  CHECK(j0.at("power_W").get<double>() == doctest::Approx(4.0));
  CHECK(j0.at("what") == "baseline");
  CHECK(j1.at("duration_s").is_null());
  CHECK(j1.at("energy_J").get<double>() == doctest::Approx(12.5));
  // ISO-8601 UTC timestamps.
  CHECK(j0.at("timestamp_utc").get<std::string>().size() == 20);
  CHECK(j0.at("timestamp_utc").get<std::string>().back() == 'Z');
  fs::remove_all(dir);
}

TEST_CASE("run log: without commit, nothing is left; without an active log, nothing is written") {
  const fs::path dir = fresh_folder("abandoned");
  {
    RunLog log(RunLogOptions{dir.string(), "run_log", "", "search", "h", "m"});
    CHECK(log.run_id().rfind("search-", 0) == 0);
    log.add(RunRecord{"final", "x", "measured", 1, 1.0, 1.0, NAN});
  }
  CHECK(fs::is_empty(dir));
  log_run_record(RunRecord{"final", "x", "measured", 1, 1.0, 1.0, NAN});  // no active log: ignored
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST_CASE("run log: an unwritable folder is one clear error naming the file") {
  // A regular file where the folder should be: fails for root too.
  const fs::path file = fresh_folder("file");
  std::ofstream(file.string()) << "x";
  CHECK_THROWS_WITH_AS(RunLog(RunLogOptions{file.string(), "run_log", "", "p", "h", "m"}),
                       doctest::Contains("cannot write the run log"), InputError);
  fs::remove(file);
}
