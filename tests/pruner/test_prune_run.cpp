// End to end: the prune program on a tiny generated CelebA-layout folder
// with the cpu-model meter; checks report.json's keys and the files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "resume.hpp"  // internal to the pruner: prune's resume state
#include "thor/fake_celeba.hpp"
#include "thor/io.hpp"
#include "thor_test_support.hpp"

namespace fs = std::filesystem;
using thor::testing::TempDir;

namespace {

const char* kRecipe = R"(# tiny CelebA pruning run for the test suite
name: tiny_celeba
meter: cpu-model
data: {dataset: celeba, root: does/not/exist, image_size: 12, attribute: Male, train_limit: 140, test_limit: 40}
model:
  input: [3, 12, 12]
  batch_size: 16
  layers:
    - conv: {out: 6, kernel: 3, padding: 1}
    - relu
    - maxpool: 2
    - conv: {out: 8, kernel: 3, padding: 1}
    - batchnorm
    - relu
    - flatten
    - linear: {out: 12}
    - relu
    - linear: {out: 2}
train: {optimizer: adam, lr: 0.003, iterations: 40, record_every: 10}
profile: {max_points: 3, iterations: 4, repeats: 1, warmup: 1, min_window: 0, min_warmup: 0, anchors: 1}
measure: {iterations: 5, repeats: 2, warmup: 1, min_window: 0, min_warmup: 0}
prune:
  budget: {fraction: 0.6}
  samples: 200
  candidates: 3
  short_finetune: 5
  final_finetune: 10
  validation: 20
  verify: 2
  concurrency: 2
  compare: [flops]
)";

std::string bin(const std::string& name) {
  const char* b = std::getenv("THOR_BINARY_DIR");
  return (fs::path(b ? b : "build") / "bin" / name).string();
}

}  // namespace

TEST_CASE("prune end to end on a tiny generated CelebA") {
  TempDir tmp("prune-e2e");
  thor::write_fake_celeba(tmp.str("celeba"), 200, 3);
  thor::write_file_atomic(tmp.str("tiny.yaml"), kRecipe);
  const std::string out = tmp.str("out/run");
  const std::string cmd = bin("prune") + " --recipe " + tmp.str("tiny.yaml") + " --data-root " +
                          tmp.str("celeba") + " --output " + out + " --quiet > " +
                          tmp.str("log.txt") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  REQUIRE_MESSAGE(rc == 0, "prune failed:\n" << thor::read_file(tmp.str("log.txt")));

  for (const char* f : {"report.json", "pruned.yaml", "model.pt", "baseline.ckpt", "profile.json",
                        "pruned_flops.yaml", "model_flops.pt"})
    CHECK_MESSAGE(fs::exists(fs::path(out) / f), f);
  CHECK_FALSE(fs::exists(tmp.str("out/.run.tmp-0")));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp.str("out"))) ++entries;
  CHECK(entries == 1);  // no staging folder left beside the output

  const auto j = nlohmann::json::parse(thor::read_file(out + "/report.json"));
  for (const char* k :
       {"accuracy", "measured_joules_per_iteration", "estimated_joules_per_iteration"}) {
    CHECK_MESSAGE(j["baseline"].contains(k), k);
    CHECK_MESSAGE(j["pruned"].contains(k), k);
    CHECK_MESSAGE(j["compare"]["flops"].contains(k), k);
  }
  CHECK(j["pruned"]["channels"].size() == 3);
  CHECK(j["compare"]["flops"]["channels"].size() == 3);
  CHECK(j.contains("budget_joules_per_iteration"));
  CHECK(j.contains("measured_energy_ratio"));
  CHECK(j["meter_kind"] == "modelled");
  CHECK(j["compare"]["flops"].contains("measured_energy_ratio"));
  const double acc = j["pruned"]["accuracy"];
  CHECK(acc >= 0.0);
  CHECK(acc <= 1.0);
  // The exported TorchScript model computes what the pruned model computes.
  CHECK(j["pruned"]["torchscript_accuracy"].get<double>() == doctest::Approx(acc));
  CHECK(j["measured_energy_ratio"].get<double>() ==
        doctest::Approx(j["pruned"]["measured_joules_per_iteration"].get<double>() /
                        j["baseline"]["measured_joules_per_iteration"].get<double>()));
  CHECK(j["pruned"]["verified"].get<int>() >= 1);
  // The baseline's training was metered as a real run and split into its
  // evaluations and its training steps.
  const auto& b = j["baseline"];
  REQUIRE(b["real_run_joules"].is_number());
  CHECK(b["real_run_joules"].get<double>() > 0.0);
  CHECK(b["real_run_evaluation_joules"].get<double>() > 0.0);
  CHECK(b["real_run_evaluation_joules"].get<double>() < b["real_run_joules"].get<double>());
  CHECK(b["real_run_joules_per_iteration"].get<double>() ==
        doctest::Approx(
            (b["real_run_joules"].get<double>() - b["real_run_evaluation_joules"].get<double>()) /
            j["train_iterations"].get<double>()));
  const std::string yaml = thor::read_file(out + "/pruned.yaml");
  CHECK(yaml.find("layers:") != std::string::npos);

  SUBCASE("a second run reuses the cached profile") {
    const int rc2 = std::system(cmd.c_str());
    REQUIRE_MESSAGE(rc2 == 0, thor::read_file(tmp.str("log.txt")));
    const auto j2 = nlohmann::json::parse(thor::read_file(out + "/report.json"));
    CHECK(j2["profile"]["reused"] == true);
  }
}

TEST_CASE("a resume state that prune did not write is not resumed (found by fuzz/)") {
  using thor::pruner::detail::ResumeState;
  TempDir dir("resume");
  thor::Recipe recipe;
  recipe.model = thor::architecture_from_yaml_text("input: [4]\nlayers: [linear: 3, linear: 2]\n");
  recipe.output = dir.str("out");
  const thor::pruner::PruneOptions options;
  const std::vector<thor::pruner::ChannelConfig> channels = {{1}, {2}, {3}};
  ResumeState(recipe, options).save_round("estimator", channels, {0.5, 0.25, 0.75});
  const std::string path = dir.str(".out.resume/state.json");
  const auto written = nlohmann::json::parse(thor::read_file(path));
  REQUIRE(ResumeState(recipe, options).round("estimator", channels)->size() == 3);
  // One accuracy for three candidates: the loop read past it.
  auto j = written;
  j["rounds"]["estimator"]["accuracies"] = {0.5};
  thor::write_file_atomic(path, j.dump());
  CHECK_FALSE(ResumeState(recipe, options).round("estimator", channels));
  // A baseline without its figures: restore_baseline threw a json exception (exit 1).
  j = written;
  j["baseline"] = {{"from_checkpoint", false}};
  thor::write_file_atomic(path, j.dump());
  CHECK_FALSE(ResumeState(recipe, options).has_baseline());
}

TEST_CASE("prune calibrates a ResNet's selection by measuring first, by channel groups") {
  TempDir tmp("prune-calibrate");
  thor::write_file_atomic(tmp.str("resnet.yaml"), R"(# a tiny ResNet, calibrated
name: tiny_resnet
meter: cpu-model
data: {dataset: random, train_limit: 160, test_limit: 40}
model:
  input: [1, 28, 28]
  batch_size: 16
  layers:
    - conv: {out: 8, kernel: 3, padding: 1}
    - batchnorm
    - relu
    - residual: {out: 8}
    - residual: {out: 12, stride: 2}
    - residual: {out: 12}
    - global_avgpool
    - linear: {out: 10}
train: {optimizer: adam, lr: 0.003, iterations: 20}
profile: {max_points: 3, iterations: 3, repeats: 1, warmup: 1, min_window: 0, min_warmup: 0, anchors: 1}
measure: {iterations: 3, repeats: 2, warmup: 1, min_window: 0, min_warmup: 0}
prune:
  budget: {fraction: 0.7}
  samples: 200
  candidates: 2
  short_finetune: 3
  final_finetune: 5
  validation: 20
  verify: 1
  calibrate: 3
  compare: [flops]
  plots: false
)");
  const std::string out = tmp.str("out");
  const std::string cmd = bin("prune") + " --recipe " + tmp.str("resnet.yaml") + " --output " +
                          out + " --quiet > " + tmp.str("log.txt") + " 2>&1";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, thor::read_file(tmp.str("log.txt")));
  const auto j = nlohmann::json::parse(thor::read_file(out + "/report.json"));
  CHECK(j["baseline"]["groups"] == nlohmann::json{"conv@0 + residual@3", "residual@4,5"});
  CHECK(j["baseline"]["channels"] == nlohmann::json{8, 12});
  const auto& p = j["pruned"];
  const auto& cal = p["calibration"];
  REQUIRE(cal["probes"].size() == 3);
  REQUIRE(cal["factors"].size() == 3);
  auto f = cal["factors"].get<std::vector<double>>();
  std::sort(f.begin(), f.end());
  CHECK(cal["factor"].get<double>() == doctest::Approx(f[1]));  // the median
  CHECK(f[0] > 0.0);
  // Selection aimed at the measured budget: the oracle's figure times the
  // factor is within it for every chosen candidate (when any was feasible).
  const double budget = p["oracle_budget_joules_per_iteration"];
  if (p["feasible"].get<int>() > 0)
    for (const auto& c : p["candidates"])
      CHECK(c["oracle_joules_per_iteration"].get<double>() * cal["factor"].get<double>() <=
            budget * (1 + 1e-9));
  // A compared oracle is taken as it is.
  CHECK(j["compare"]["flops"]["calibration"]["factor"] == 1.0);
  CHECK(j["compare"]["flops"]["calibration"]["probes"].empty());
}
