#include "thor/gp/acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "thor/error.hpp"
#include "thor/format.hpp"

namespace thor::gp {

namespace {

// Hash of a point's exact coordinates, for excluding measured points.
struct RowKey {
  std::vector<double> v;
  bool operator==(const RowKey& o) const { return v == o.v; }
};
struct RowKeyHash {
  std::size_t operator()(const RowKey& k) const {
    std::size_t h = 1469598103934665603ull;
    for (double x : k.v) {
      const double y = x == 0.0 ? 0.0 : x;  // -0 == +0
      std::uint64_t bits;
      static_assert(sizeof(bits) == sizeof(y));
      std::memcpy(&bits, &y, sizeof(bits));
      h = (h ^ bits) * 1099511628211ull;
    }
    return h;
  }
};

RowKey key_of(const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Index i) {
  RowKey k;
  k.v.resize(static_cast<std::size_t>(X.cols()));
  for (Eigen::Index d = 0; d < X.cols(); ++d) {
    const double x = X(i, d);
    k.v[static_cast<std::size_t>(d)] = x == 0.0 ? 0.0 : x;
  }
  return k;
}

}  // namespace

void IntegerGrid::validate() const {
  if (lower.empty())
    throw InputError("gp: IntegerGrid.lower is empty: need one value per dimension");
  if (upper.size() != lower.size())
    throw InputError("gp: IntegerGrid.upper has " + std::to_string(upper.size()) +
                     " entries: must match IntegerGrid.lower (" + std::to_string(lower.size()) +
                     ")");
  if (!step.empty() && step.size() != lower.size())
    throw InputError("gp: IntegerGrid.step has " + std::to_string(step.size()) +
                     " entries: must be empty or match IntegerGrid.lower (" +
                     std::to_string(lower.size()) + ")");
  for (std::size_t d = 0; d < lower.size(); ++d) {
    if (upper[d] < lower[d])
      throw InputError("gp: IntegerGrid.upper[" + std::to_string(d) +
                       "] = " + std::to_string(upper[d]) + ": must be >= IntegerGrid.lower[" +
                       std::to_string(d) + "] = " + std::to_string(lower[d]));
    if (!step.empty() && step[d] <= 0)
      throw InputError("gp: IntegerGrid.step[" + std::to_string(d) +
                       "] = " + std::to_string(step[d]) + ": must be > 0");
  }
}

std::size_t IntegerGrid::size() const {
  validate();
  std::size_t total = 1;
  for (std::size_t d = 0; d < lower.size(); ++d) {
    const std::int64_t s = step.empty() ? 1 : step[d];
    total *= static_cast<std::size_t>((upper[d] - lower[d]) / s + 1);
  }
  return total;
}

Eigen::MatrixXd IntegerGrid::points() const {
  const std::size_t total = size();
  const std::size_t dims = lower.size();
  Eigen::MatrixXd P(static_cast<Eigen::Index>(total), static_cast<Eigen::Index>(dims));
  std::vector<std::int64_t> cur(lower);
  for (std::size_t i = 0; i < total; ++i) {
    for (std::size_t d = 0; d < dims; ++d)
      P(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(d)) = static_cast<double>(cur[d]);
    // Odometer increment, last dimension fastest.
    for (std::size_t d = dims; d-- > 0;) {
      const std::int64_t s = step.empty() ? 1 : step[d];
      if (cur[d] + s <= upper[d]) {
        cur[d] += s;
        break;
      }
      cur[d] = lower[d];
    }
  }
  return P;
}

double Candidate::std() const { return std::sqrt(std::max(variance, 0.0)); }

std::optional<Candidate> max_variance_candidate(const GaussianProcess& gp,
                                                const Eigen::Ref<const Eigen::MatrixXd>& candidates,
                                                const Eigen::MatrixXd& exclude) {
  if (!gp.is_conditioned())
    throw InputError("gp: max_variance_candidate: the GP has no data; fit it first");
  if (candidates.cols() != gp.input_dim())
    throw InputError("gp: max_variance_candidate: candidates have " +
                     std::to_string(candidates.cols()) + " columns, the GP takes " +
                     std::to_string(gp.input_dim()));
  if (exclude.size() > 0 && exclude.cols() != gp.input_dim())
    throw InputError("gp: max_variance_candidate: exclude has " + std::to_string(exclude.cols()) +
                     " columns, the GP takes " + std::to_string(gp.input_dim()));
  std::unordered_set<RowKey, RowKeyHash> measured;
  for (Eigen::Index i = 0; i < gp.inputs().rows(); ++i) measured.insert(key_of(gp.inputs(), i));
  for (Eigen::Index i = 0; i < exclude.rows(); ++i) measured.insert(key_of(exclude, i));

  Eigen::VectorXd variance;
  const Eigen::VectorXd mean = gp.predict_batch(candidates, &variance, false);
  Eigen::Index best = -1;
  for (Eigen::Index i = 0; i < candidates.rows(); ++i) {
    if (best >= 0 && !(variance[i] > variance[best])) continue;
    if (measured.count(key_of(candidates, i))) continue;
    best = i;
  }
  if (best < 0) return std::nullopt;
  Candidate c;
  c.x = candidates.row(best).transpose();
  c.index = best;
  c.mean = mean[best];
  c.variance = variance[best];
  return c;
}

std::optional<Candidate> max_variance_candidate(const GaussianProcess& gp, const IntegerGrid& grid,
                                                const Eigen::MatrixXd& exclude) {
  return max_variance_candidate(gp, grid.points(), exclude);
}

MaxPointsRule::MaxPointsRule(std::size_t max_points) : max_points_(max_points) {
  if (max_points == 0) throw InputError("gp: MaxPointsRule: max_points = 0: must be >= 1");
}

StopDecision MaxPointsRule::check(const StopContext& c) const {
  if (c.num_points >= max_points_)
    return {true, "max_points: " + std::to_string(c.num_points) + " points measured (limit " +
                      std::to_string(max_points_) + ")"};
  return {};
}

RelativeStdRule::RelativeStdRule(double fraction) : fraction_(fraction) {
  if (!(fraction > 0.0) || !std::isfinite(fraction))
    throw InputError("gp: RelativeStdRule: fraction = " + number(fraction) +
                     ": must be a positive finite number");
}

StopDecision RelativeStdRule::check(const StopContext& c) const {
  const double threshold = fraction_ * std::abs(c.mean_target);
  if (c.max_std < threshold)
    return {true, "relative_std: largest predictive std " + number(c.max_std) + " < " +
                      number(fraction_) + " x mean target " + number(std::abs(c.mean_target))};
  return {};
}

StopContext make_stop_context(const GaussianProcess& gp, const std::optional<Candidate>& best) {
  StopContext c;
  c.num_points = static_cast<std::size_t>(gp.num_points());
  c.mean_target = gp.num_points() > 0 ? gp.targets().mean() : 0.0;
  c.candidates_left = best.has_value();
  c.max_std = best ? best->std() : 0.0;
  return c;
}

StopDecision should_stop(const std::vector<std::unique_ptr<StopRule>>& rules,
                         const StopContext& context) {
  if (!context.candidates_left) return {true, "no_candidates: every candidate has been measured"};
  for (const auto& r : rules) {
    if (!r) continue;
    StopDecision d = r->check(context);
    if (d.stop) return d;
  }
  return {};
}

}  // namespace thor::gp
