// LibTorch models: training, determinism, checkpoints, TorchScript export,
// and the measurement protocol with the sim meter.
#include <doctest/doctest.h>

#include <filesystem>

#include "thor/architecture.hpp"
#include "thor/protocol.hpp"
#include "thor/train.hpp"
#include "thor_test_support.hpp"

using namespace thor;

namespace {
Architecture small_cnn() {
  return architecture_from_yaml_text(R"(
input: [1, 12, 12]
batch_size: 16
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu
  - maxpool: 2
  - flatten
  - linear: {out: 16}
  - relu
  - linear: {out: 2}
)",
                                     "small.yaml");
}
}  // namespace

TEST_CASE("a small CNN learns a learnable task") {
  const Dataset train = testing::left_right_dataset(800, 12, 1);
  const Dataset test = testing::left_right_dataset(300, 12, 2);
  Model model(small_cnn(), 7);
  const double before = model.accuracy(test);
  TrainOptions o;
  o.iterations = 300;
  o.lr = 0.05;
  o.record_every = 100;
  const TrainResult r = model.train(train, o, &test);
  const double after = model.accuracy(test);
  REQUIRE_MESSAGE(after > 0.85, "accuracy before " << before << ", after " << after);
  CHECK(r.curve.size() == 3);
  CHECK(r.curve.back().accuracy > 0.8);
  CHECK(r.curve.front().loss > r.curve.back().loss);
}

TEST_CASE("training is deterministic for a seed") {
  const Dataset train = testing::left_right_dataset(200, 12, 3);
  TrainOptions o;
  o.iterations = 30;
  set_torch_threads(1);
  Model a(small_cnn(), 5), b(small_cnn(), 5), c(small_cnn(), 6);
  const double la = a.train(train, o).final_loss;
  const double lb = b.train(train, o).final_loss;
  const double lc = c.train(train, o).final_loss;
  CHECK(la == lb);
  CHECK(la != lc);
}

TEST_CASE("checkpoints and TorchScript exports reproduce the model") {
  const Dataset train = testing::left_right_dataset(400, 12, 4);
  const Dataset test = testing::left_right_dataset(200, 12, 5);
  Model model(small_cnn(), 3);
  TrainOptions o;
  o.iterations = 100;
  model.train(train, o);
  const double acc = model.accuracy(test);
  testing::TempDir dir("ckpt");
  model.save(dir.str("m.ckpt"));
  const Model loaded = Model::load(dir.str("m.ckpt"), small_cnn());
  CHECK(loaded.accuracy(test) == doctest::Approx(acc));
  model.export_torchscript(dir.str("model.pt"));
  CHECK(torchscript_accuracy(dir.str("model.pt"), test) == doctest::Approx(acc));
  // The export keeps the layer structure readable.
  CHECK(architecture_from_torchscript(dir.str("model.pt"), {1, 12, 12}, 16) == small_cnn());
  CHECK_THROWS_WITH_AS(architecture_from_torchscript(dir.str("m.ckpt"), {1, 12, 12}, 16),
                       doctest::Contains("m.ckpt"), InputError);
  // A checkpoint of another architecture is refused, naming the file.
  const Architecture wider = small_cnn().with_channels({8, 16});
  CHECK_THROWS_WITH_AS(Model::load(dir.str("m.ckpt"), wider), doctest::Contains("m.ckpt"),
                       InputError);
  CHECK_THROWS_WITH_AS(Model::load(dir.str("missing.ckpt"), wider),
                       doctest::Contains("missing.ckpt"), InputError);
  // No temp files are left next to the outputs.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 2);
}

TEST_CASE("datasets must match the model") {
  Model model(small_cnn(), 1);
  const Dataset wrong = random_dataset({1, 10, 10}, 10, 2, 1);
  CHECK_THROWS_AS(model.accuracy(wrong), InputError);
  CHECK_THROWS_WITH_AS(check_device("cuda"), doctest::Contains("cuda"), InputError);
  CHECK_THROWS_AS(check_device("tpu"), InputError);
}

TEST_CASE("the protocol meters repeats and restores thread settings") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  set_torch_threads(2);
  MeasureOptions o;
  o.iterations = 5;
  o.warmup = 1;
  o.repeats = 3;
  o.threads = 1;
  const Architecture arch = small_cnn();
  const Measurement m = measure_training(arch, *meter, o);
  CHECK(m.kind == EnergyKind::simulated);
  CHECK(m.repeat_joules.size() == 3);
  CHECK(m.joules_per_iteration == doctest::Approx(sim_joules_per_iteration(arch)));
  CHECK(m.cv == doctest::Approx(0.0));
  CHECK(m.seconds_per_iteration > 0.0);
  CHECK(torch_threads() == 2);
  // The synthetic device is additive in layers but not proportional to FLOPs.
  const double small = sim_joules_per_iteration(arch);
  const double wide = sim_joules_per_iteration(arch.with_channels({8, 16}));
  CHECK(wide > small);
}

TEST_CASE("median and the MAD outlier rule") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 2, 3}) == 2.5);
  const auto keep = mad_inliers({1.0, 1.1, 0.9, 1.05, 9.0}, 3.0);
  CHECK(keep.size() == 4);
  CHECK(std::find(keep.begin(), keep.end(), 4u) == keep.end());
}

namespace {

// A data set whose samples are all `level` (a "bright" or "dark" data set):
// the sim meter with sim_data_weight > 0 charges by the data fed.
Dataset flat_dataset(float level, int64_t n) {
  Dataset d = random_dataset({1, 8, 8}, n, 2, 3);
  std::fill(d.data.begin(), d.data.end(), level);
  d.name = "flat";
  return d;
}

Architecture tiny_net() {
  Architecture a;
  a.input = {1, 8, 8};
  a.batch_size = 4;
  a.layers = {Layer::conv(3, 3), Layer::simple(LayerType::relu), Layer::simple(LayerType::flatten),
              Layer::linear(2)};
  return a;
}

}  // namespace

TEST_CASE("the protocol and the real run share one training step, fed the same way") {
  register_sim_meter();
  MeterOptions mo;
  mo.sim_data_weight = 1.0;  // joules follow the mean input fed
  auto meter = make_meter("sim", mo);
  const Architecture arch = tiny_net();
  const Dataset bright = flat_dataset(0.9f, 64);
  TrainOptions opt;
  opt.lr = 0.01;
  MeasureOptions o;
  o.iterations = 6;
  o.warmup = 0;
  o.repeats = 2;
  const Measurement protocol = measure_training(arch, *meter, o, TrainFeed{&bright, opt});
  CHECK(protocol.feed == "flat");
  RunOptions ro;
  ro.iterations = 40;
  ro.windows = 4;
  const RunMeasurement run = measure_real_run(arch, bright, opt, *meter, ro);
  CHECK(run.feed == "flat");
  REQUIRE(run.window_joules_per_iteration.size() == 4);
  // Same step, same data: the same figure per iteration through both paths.
  CHECK(protocol.joules_per_iteration == doctest::Approx(run.joules_per_iteration).epsilon(1e-9));
  CHECK(run.joules_per_iteration ==
        doctest::Approx(sim_joules_per_iteration(arch) * 1.4).epsilon(1e-9));
  // Without data the stand-in is fed, named, and costs what it costs.
  const Measurement stand_in = measure_training(arch, *meter, o);
  CHECK(stand_in.feed == kStandIn);
  CHECK(stand_in.joules_per_iteration ==
        doctest::Approx(sim_joules_per_iteration(arch)).epsilon(1e-9));
  // Data of another shape cannot feed the network: the stand-in, named.
  const Dataset other = random_dataset({1, 5, 5}, 16, 2, 1);
  CHECK(measure_training(arch, *meter, o, TrainFeed{&other, opt}).feed == kStandIn);
}

TEST_CASE("windows last at least min_window_seconds") {
  register_sim_meter();
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  MeasureOptions o;
  o.iterations = 2;
  o.warmup = 4;
  o.repeats = 1;
  o.min_window_seconds = 0.05;
  const Measurement m = measure_training(tiny_net(), *meter, o);
  CHECK(m.iterations > o.iterations);
  CHECK(m.seconds_per_iteration * static_cast<double>(m.iterations) >= 0.03);
  CHECK_THROWS_AS(RunOptions{0}.validate(), InputError);
}
