#pragma once
/// \file
/// What `estimate` prints and draws: the JSON of one estimate (with its
/// measurement beside it), and for a batch of architectures a table, a
/// summary (MAPE, share of measurements inside the ±2σ interval), a JSON
/// array and the estimated-vs-measured scatter plot. Programs stay thin;
/// prune, search and the benches can print the same table.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/estimator.hpp"
#include "thor/protocol.hpp"

namespace thor {

/// The JSON object of one estimate, as `estimate --json` prints it for one
/// architecture: summary, J/iter, std, basis, total over `iterations`, the
/// profile's energy kind, the FLOPs baseline and the per-block breakdown.
nlohmann::json estimate_json(const Architecture& arch, const EstimateResult& r, EnergyKind kind,
                             int64_t iterations);

/// Adds a measurement of the same architecture to `j`: measured J/iter, cv,
/// std of the median, feed, kind, and the relative errors of the GP
/// estimate and the FLOPs baseline.
void add_measurement_json(nlohmann::json& j, const Measurement& m, const EstimateResult& r);

/// One architecture of a batch.
struct BatchRow {
  std::string name;  ///< what the table and the plot call it (the YAML's file stem)
  Architecture architecture;
  EstimateResult estimate;
  std::optional<Measurement> measurement;  ///< set with `estimate --measure`

  /// (estimated − measured) / measured; 0 without a measurement.
  double relative_error() const;
  /// Whether the measurement lies within ±`sigmas` std of the estimate.
  bool inside(double sigmas = 2.0) const;
};

/// What a batch with measurements says about the estimator.
struct BatchSummary {
  int rows = 0;
  int measured = 0;             ///< rows with a measurement
  double mape = 0.0;            ///< mean |relative error| over measured rows
  int inside = 0;               ///< measured rows inside ±sigmas std
  double sigmas = 2.0;          ///< the interval's half-width in std
  double inside_share() const;  ///< inside / measured (0 when none)
  /// "MAPE 3.1% over 5 measured; 4 of 5 (80%) inside the ±2σ interval".
  std::string line() const;
};

BatchSummary summarize_batch(const std::vector<BatchRow>& rows, double sigmas = 2.0);

/// One row per architecture (name, J/iter ± std, total over `iterations`,
/// and with measurements: measured J/iter, its std of the median, cv and the
/// error %), then the summary line when any row was measured.
std::string batch_table(const std::vector<BatchRow>& rows, int64_t iterations);

/// A JSON array: per row estimate_json (+ add_measurement_json) with "name".
nlohmann::json batch_json(const std::vector<BatchRow>& rows, EnergyKind kind, int64_t iterations);

/// Draws the estimated-vs-measured scatter to `png_path`: x = measured J/iter
/// (± 2 std of the median), y = estimated J/iter (± 2σ), the y = x line, log
/// axes when the values span more than 10×, each point labelled by its name.
/// Written atomically (a temp name in the same folder, then renamed).
/// Throws InputError when a row has no measurement, std::runtime_error
/// when gnuplot is missing or fails (nothing is left behind).
void write_scatter_plot(const std::vector<BatchRow>& rows, const std::string& png_path,
                        EnergyKind kind);

}  // namespace thor
