#pragma once
/// \file
/// Guided profiling helpers: pick the next point to measure (largest
/// predictive variance over a discrete candidate set) and decide when to stop
/// (the paper's rules: a maximum number of points, or a largest predictive
/// standard deviation under a fraction of the mean observed target).
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "thor/gp/gp.hpp"

namespace thor::gp {

/// An integer grid over channel ranges: dimension d takes the values
/// lower[d], lower[d] + step[d], ... up to and including upper[d] when it is
/// reached. An empty `step` means 1 in every dimension.
struct IntegerGrid {
  /// Smallest value per dimension.
  std::vector<std::int64_t> lower;
  /// Largest value per dimension (inclusive), >= lower.
  std::vector<std::int64_t> upper;
  /// Step per dimension (> 0), or empty for all ones.
  std::vector<std::int64_t> step;

  /// Throws thor::InputError naming the field, its value and the rule broken.
  void validate() const;
  /// Number of grid points.
  std::size_t size() const;
  /// All grid points, one per row, the last dimension varying fastest.
  Eigen::MatrixXd points() const;
};

/// A candidate chosen by max_variance_candidate().
struct Candidate {
  /// The point (raw units).
  Eigen::VectorXd x;
  /// Row of the candidate set it came from.
  Eigen::Index index = -1;
  /// Predictive mean there.
  double mean = 0.0;
  /// Latent predictive variance there (noise excluded).
  double variance = 0.0;
  /// sqrt(variance).
  double std() const;
};

/// The row of `candidates` with the largest latent predictive variance under
/// `gp`, skipping rows equal to a training input of `gp` or to a row of
/// `exclude`; ties go to the lowest row. Empty when every candidate is
/// excluded. Throws thor::InputError when the GP is not conditioned or the
/// column counts differ.
std::optional<Candidate> max_variance_candidate(const GaussianProcess& gp,
                                                const Eigen::Ref<const Eigen::MatrixXd>& candidates,
                                                const Eigen::MatrixXd& exclude = Eigen::MatrixXd());
/// Same over every point of `grid`.
std::optional<Candidate> max_variance_candidate(const GaussianProcess& gp, const IntegerGrid& grid,
                                                const Eigen::MatrixXd& exclude = Eigen::MatrixXd());

/// What a stopping rule looks at.
struct StopContext {
  /// Points measured so far.
  std::size_t num_points = 0;
  /// Largest latent predictive std over the remaining candidates (0 when none remain).
  double max_std = 0.0;
  /// Mean of the observed targets.
  double mean_target = 0.0;
  /// False when every candidate has been measured.
  bool candidates_left = true;
};

/// A stop-or-continue decision.
struct StopDecision {
  /// True to stop profiling this layer kind.
  bool stop = false;
  /// Why (empty when continuing).
  std::string reason;
};

/// A rule that ends guided profiling.
///
/// Contract for implementers: check() is const, cheap and deterministic;
/// reason strings start with the rule's name.
class StopRule {
 public:
  StopRule() = default;
  virtual ~StopRule() = default;
  StopRule(const StopRule&) = delete;
  StopRule& operator=(const StopRule&) = delete;
  /// Short name, e.g. "max_points".
  virtual std::string name() const = 0;
  /// Decide from the context.
  virtual StopDecision check(const StopContext& context) const = 0;
};

/// Stops once `max_points` points have been measured.
class MaxPointsRule final : public StopRule {
 public:
  /// Throws thor::InputError when max_points is 0.
  explicit MaxPointsRule(std::size_t max_points);
  std::string name() const override { return "max_points"; }
  StopDecision check(const StopContext& context) const override;

 private:
  std::size_t max_points_;
};

/// Stops when the largest predictive std is below `fraction` times the
/// absolute mean observed target (the paper's 5 % rule).
class RelativeStdRule final : public StopRule {
 public:
  /// Throws thor::InputError unless 0 < fraction.
  explicit RelativeStdRule(double fraction = 0.05);
  std::string name() const override { return "relative_std"; }
  StopDecision check(const StopContext& context) const override;

 private:
  double fraction_;
};

/// The context for `gp` (its points and mean target) and the best remaining candidate.
StopContext make_stop_context(const GaussianProcess& gp, const std::optional<Candidate>& best);

/// Stops when no candidate is left or when the first rule in `rules` that says stop does.
StopDecision should_stop(const std::vector<std::unique_ptr<StopRule>>& rules,
                         const StopContext& context);

}  // namespace thor::gp
