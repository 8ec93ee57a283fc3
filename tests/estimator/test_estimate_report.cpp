// What `estimate` prints and draws for a batch (table, summary, JSON array,
// the estimated-vs-measured scatter) and the per-kind plots of a profile.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "thor/estimate_report.hpp"
#include "thor/estimator.hpp"
#include "thor/format.hpp"
#include "thor/io.hpp"
#include "thor/profile_plots.hpp"
#include "thor/profiler.hpp"
#include "thor_test_support.hpp"

using namespace thor;
namespace fs = std::filesystem;

namespace {

Architecture lenet() {
  return load_architecture(std::string(THOR_SOURCE_DIR) + "/recipes/arch/lenet5.yaml");
}

// Cheap protocol settings: the sim meter's energy does not depend on time.
ProfilerOptions sim_options() {
  ProfilerOptions o;
  o.measure.iterations = 1;
  o.measure.warmup = 0;
  o.measure.repeats = 1;
  o.measure.min_window_seconds = 0.0;
  o.measure.min_warmup_seconds = 0.0;
  o.progress = false;
  o.max_points = 8;
  o.std_fraction = 0.01;
  return o;
}

// One sim profile of LeNet-5 for the whole file (profiling takes seconds).
const DeviceProfile& sim_profile() {
  static const DeviceProfile profile = [] {
    register_sim_meter();
    MeterOptions mo;
    auto meter = make_meter("sim", mo);
    return run_profiler({lenet()}, *meter, mo, sim_options()).profile;
  }();
  return profile;
}

// LeNet-5 at three widths, estimated and measured on the sim device.
std::vector<BatchRow> measured_rows() {
  const Estimator est(sim_profile());
  std::vector<BatchRow> rows;
  rows.push_back({"lenet5", lenet(), {}, {}});
  rows.push_back({"half", lenet().with_channels({3, 8, 60, 42}), {}, {}});
  rows.push_back({"narrow", lenet().with_channels({2, 4, 16, 12}), {}, {}});
  std::vector<Architecture> archs;
  for (auto& r : rows) {
    r.estimate = est.estimate(r.architecture);
    archs.push_back(r.architecture);
  }
  MeterOptions mo;
  auto meter = make_meter("sim", mo);
  const auto measured = measure_interleaved(archs, *meter, sim_options().measure);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].measurement = measured[i];
  return rows;
}

// A row with a given estimate (± std) and measurement, for exact checks.
BatchRow fixed_row(const std::string& name, double estimated, double std, double measured) {
  BatchRow r{name, lenet(), {}, {}};
  r.estimate.joules_per_iteration = estimated;
  r.estimate.std = std;
  Measurement m;
  m.joules_per_iteration = measured;
  m.repeat_joules = {measured};
  r.measurement = m;
  return r;
}

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, 8);
  return in.gcount() == 8 && std::string(head, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream s(text);
  for (std::string l; std::getline(s, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("the batch summary counts errors and the ±2σ interval exactly") {
  // 1.0 ± 0.1 against 1.15: -13.04 %, inside; 2.0 ± 0.1 against 2.5: -20 %, outside.
  const std::vector<BatchRow> rows = {fixed_row("a", 1.0, 0.1, 1.15),
                                      fixed_row("b", 2.0, 0.1, 2.5)};
  CHECK(rows[0].relative_error() == doctest::Approx(-0.15 / 1.15));
  CHECK(rows[0].inside());
  CHECK_FALSE(rows[1].inside());
  CHECK(rows[1].inside(5.0));
  const BatchSummary s = summarize_batch(rows);
  CHECK(s.rows == 2);
  CHECK(s.measured == 2);
  CHECK(s.inside == 1);
  CHECK(s.inside_share() == doctest::Approx(0.5));
  CHECK(s.mape == doctest::Approx((0.15 / 1.15 + 0.2) / 2));
  CHECK(s.line() == "MAPE 16.52% over 2 measured; 1 of 2 (50%) inside the ±2σ interval");
  BatchRow unmeasured = rows[0];
  unmeasured.measurement.reset();
  CHECK(summarize_batch({unmeasured}).line() == "1 architectures, none measured");
}

TEST_CASE("a sim batch: one table row per architecture, the summary, and a JSON array") {
  const std::vector<BatchRow> rows = measured_rows();
  // The sim device is deterministic: what was measured is its synthetic truth.
  for (const auto& r : rows)
    REQUIRE(r.measurement->joules_per_iteration ==
            doctest::Approx(sim_joules_per_iteration(r.architecture)).epsilon(1e-6));
  // Smaller networks cost less, and the estimator follows.
  CHECK(rows[2].estimate.joules_per_iteration < rows[1].estimate.joules_per_iteration);
  CHECK(rows[1].estimate.joules_per_iteration < rows[0].estimate.joules_per_iteration);

  const std::string table = batch_table(rows, 1000);
  const auto lines = lines_of(table);
  REQUIRE_MESSAGE(lines.size() == 1 + rows.size() + 1, table);  // header, rows, summary
  CHECK(lines[0].find("J total (1000)") != std::string::npos);
  CHECK(lines[0].find("error %") != std::string::npos);
  const BatchSummary summary = summarize_batch(rows);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& line = lines[1 + i];
    CHECK(line.rfind(rows[i].name, 0) == 0);
    CHECK_MESSAGE(line.find(joules_digits(rows[i].estimate.total(1000))) != std::string::npos,
                  line);
    CHECK(line.find(strf("%+.1f", 100 * rows[i].relative_error())) != std::string::npos);
    const std::string in = rows[i].inside() ? "yes" : "no";
    CHECK(line.substr(line.size() - in.size()) == in);
  }
  CHECK(lines.back() == summary.line());
  CHECK(summary.measured == 3);
  MESSAGE(table);
  CHECK(summary.mape < 0.05);  // guided profiling recovers sim within a few %

  const nlohmann::json a = batch_json(rows, EnergyKind::simulated, 1000);
  REQUIRE(a.is_array());
  REQUIRE(a.size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(a[i]["name"] == rows[i].name);
    CHECK(a[i]["kind"] == "simulated");
    CHECK(a[i]["joules_total"].get<double>() ==
          doctest::Approx(1000 * rows[i].estimate.joules_per_iteration));
    CHECK(a[i]["measured_joules_per_iteration"].get<double>() ==
          doctest::Approx(rows[i].measurement->joules_per_iteration));
    CHECK(a[i]["error_gp"].get<double>() == doctest::Approx(rows[i].relative_error()));
    CHECK(a[i]["inside_2sigma"].get<bool>() == rows[i].inside());
    CHECK(a[i]["layers"].size() == rows[i].estimate.layers.size());
  }
  // Without measurements: no measured columns, no summary.
  std::vector<BatchRow> plain = rows;
  for (auto& r : plain) r.measurement.reset();
  CHECK(lines_of(batch_table(plain, 1)).size() == 1 + rows.size());
  CHECK(batch_table(plain, 1).find("error %") == std::string::npos);
  CHECK_FALSE(batch_json(plain, EnergyKind::simulated, 1)[0].contains("measured_cv"));
}

TEST_CASE("the scatter plot is one PNG written atomically; rows without measurements are refused") {
  thor::testing::TempDir dir("scatter");
  std::vector<BatchRow> rows = measured_rows();
  const std::string png = dir.str("plots/scatter.png");
  write_scatter_plot(rows, png, EnergyKind::simulated);
  CHECK(is_png(png));
  // Nothing but the PNG is left beside it (no temp script, data or PNG).
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.str("plots"))) {
    ++entries;
    CHECK_MESSAGE(e.path().filename() == "scatter.png", e.path());
  }
  CHECK(entries == 1);
  // Values spanning more than 10x (log axes) draw as well.
  rows.push_back(fixed_row("huge", 50.0, 5.0, 40.0));
  write_scatter_plot(rows, dir.str("wide.png"), EnergyKind::simulated);
  CHECK(is_png(dir.str("wide.png")));

  rows[0].measurement.reset();
  CHECK_THROWS_AS(write_scatter_plot(rows, dir.str("never.png"), EnergyKind::simulated),
                  InputError);
  CHECK_FALSE(fs::exists(dir.str("never.png")));
}

TEST_CASE("kind plot names are safe file names, numbered so that they stay unique") {
  CHECK(kind_plot_name(3, "hidden:conv(k5,s1,p0)+relu:in14x14:b32") ==
        "03-hidden_conv_k5_s1_p0_relu_in14x14_b32.png");
  CHECK(kind_plot_name(12, "output:linear:inflat:out10:b32") ==
        "12-output_linear_inflat_out10_b32.png");
  const std::string long_name = kind_plot_name(0, std::string(300, 'x'));
  CHECK(long_name.size() == 3 + 120 + 4);
  CHECK(long_name.find('/') == std::string::npos);
}

TEST_CASE("write_profile_plots draws one PNG per kind and an index of file and kind key") {
  thor::testing::TempDir dir("profile-plots");
  const DeviceProfile& profile = sim_profile();
  REQUIRE(profile.kinds.size() >= 4);
  const auto written = write_profile_plots(profile, dir.str("kinds"));
  REQUIRE(written.size() == profile.kinds.size() + 1);
  CHECK(written.back() == dir.str("kinds/index.txt"));
  std::vector<std::string> index;
  for (const auto& l : lines_of(read_file(written.back())))
    if (!l.empty() && l[0] != '#') index.push_back(l);
  REQUIRE(index.size() == profile.kinds.size());
  size_t i = 0, two_d = 0;
  for (const auto& [key, kind] : profile.kinds) {
    const std::string file = kind_plot_name(i, key);
    CHECK(index[i] == file + "\t" + key);
    CHECK(written[i] == dir.str("kinds/" + file));
    CHECK_MESSAGE(is_png(written[i]), written[i]);
    if (kind.points.front().features.size() == 2) ++two_d;
    ++i;
  }
  CHECK(two_d >= 1);  // LeNet-5 has hidden (C_in, C_out) kinds: the heat maps were drawn too
  // Only the PNGs and the index: temp files are gone.
  CHECK(static_cast<size_t>(std::distance(fs::directory_iterator(dir.str("kinds")),
                                          fs::directory_iterator())) == written.size());
}
