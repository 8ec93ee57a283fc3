// The JSON of an estimate and the batch table of `estimate`.
#include "thor/estimate_report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "thor/format.hpp"

namespace thor {

nlohmann::json estimate_json(const Architecture& arch, const EstimateResult& r, EnergyKind kind,
                             int64_t iterations) {
  nlohmann::json j;
  j["architecture"] = arch.summary();
  j["joules_per_iteration"] = r.joules_per_iteration;
  j["std"] = r.std;
  j["model_std"] = r.model_std;
  j["basis"] = r.basis;
  j["iterations"] = iterations;
  j["joules_total"] = r.total(iterations);
  j["kind"] = to_string(kind);
  j["flops_per_iteration"] = r.flops;
  j["flops_joules_per_iteration"] = r.flops_joules;
  j["layers"] = nlohmann::json::array();
  for (const auto& l : r.layers)
    j["layers"].push_back({{"block", l.block},
                           {"role", to_string(l.role)},
                           {"kind", l.key},
                           {"features", l.features},
                           {"joules", l.joules},
                           {"std", l.std},
                           {"fallback", l.fallback}});
  if (!r.message.empty()) j["message"] = r.message;
  return j;
}

void add_measurement_json(nlohmann::json& j, const Measurement& m, const EstimateResult& r) {
  j["measured_joules_per_iteration"] = m.joules_per_iteration;
  j["measured_cv"] = m.cv;
  j["measured_std_of_median"] = std::sqrt(m.median_variance());
  j["measured_feed"] = m.feed;
  j["measured_kind"] = to_string(m.kind);
  j["error_gp"] = (r.joules_per_iteration - m.joules_per_iteration) / m.joules_per_iteration;
  j["error_flops"] = (r.flops_joules - m.joules_per_iteration) / m.joules_per_iteration;
}

double BatchRow::relative_error() const {
  if (!measurement || measurement->joules_per_iteration <= 0.0) return 0.0;
  return (estimate.joules_per_iteration - measurement->joules_per_iteration) /
         measurement->joules_per_iteration;
}

bool BatchRow::inside(double sigmas) const {
  if (!measurement) return false;
  return std::fabs(measurement->joules_per_iteration - estimate.joules_per_iteration) <=
         sigmas * estimate.std;
}

double BatchSummary::inside_share() const {
  return measured > 0 ? static_cast<double>(inside) / measured : 0.0;
}

std::string BatchSummary::line() const {
  if (measured == 0) return strf("%d architectures, none measured", rows);
  return strf("MAPE %.2f%% over %d measured; %d of %d (%.0f%%) inside the ±%gσ interval",
              100.0 * mape, measured, inside, measured, 100.0 * inside_share(), sigmas);
}

BatchSummary summarize_batch(const std::vector<BatchRow>& rows, double sigmas) {
  BatchSummary s;
  s.rows = static_cast<int>(rows.size());
  s.sigmas = sigmas;
  for (const auto& r : rows) {
    if (!r.measurement) continue;
    ++s.measured;
    s.mape += std::fabs(r.relative_error());
    if (r.inside(sigmas)) ++s.inside;
  }
  if (s.measured > 0) s.mape /= s.measured;
  return s;
}

std::string batch_table(const std::vector<BatchRow>& rows, int64_t iterations) {
  const bool measured = std::any_of(rows.begin(), rows.end(),
                                    [](const BatchRow& r) { return r.measurement.has_value(); });
  size_t name_width = 12;
  for (const auto& r : rows) name_width = std::max(name_width, r.name.size() + 2);
  std::ostringstream s;
  const auto cell = [&s](const std::string& text, int width) {
    s << std::right << std::setw(width) << text;
  };
  s << std::left << std::setw(static_cast<int>(name_width)) << "architecture";
  cell("J/iter", 11);
  // "±" and "σ" are two bytes each in UTF-8: setw counts bytes, so those
  // headers get one more column per such character.
  cell("± std", 12);
  cell("J total (" + std::to_string(iterations) + ")", 18);
  if (measured) {
    cell("measured", 11);
    cell("± std", 12);
    cell("cv %", 8);
    cell("error %", 9);
    cell("in ±2σ", 10);
  }
  s << "\n";
  for (const auto& r : rows) {
    s << std::left << std::setw(static_cast<int>(name_width)) << r.name;
    cell(joules_digits(r.estimate.joules_per_iteration), 11);
    cell(joules_digits(r.estimate.std), 11);
    cell(joules_digits(r.estimate.total(iterations)), 18);
    if (r.measurement) {
      const Measurement& m = *r.measurement;
      cell(joules_digits(m.joules_per_iteration), 11);
      cell(joules_digits(std::sqrt(m.median_variance())), 11);
      cell(strf("%.1f", 100.0 * m.cv), 8);
      cell(strf("%+.1f", 100.0 * r.relative_error()), 9);
      cell(r.inside() ? "yes" : "no", 8);
    } else if (measured) {
      cell("-", 11);
    }
    s << "\n";
  }
  if (measured) s << summarize_batch(rows).line() << "\n";
  return s.str();
}

nlohmann::json batch_json(const std::vector<BatchRow>& rows, EnergyKind kind, int64_t iterations) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = estimate_json(r.architecture, r.estimate, kind, iterations);
    j["name"] = r.name;
    if (r.measurement) {
      add_measurement_json(j, *r.measurement, r.estimate);
      j["inside_2sigma"] = r.inside();
    }
    a.push_back(std::move(j));
  }
  return a;
}

}  // namespace thor
