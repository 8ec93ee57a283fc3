#pragma once
/// \file
/// Prior mean functions of thor's Gaussian Process. The mean works in the
/// GP's normalised space (inputs scaled to [0, 1], targets standardised when
/// the GP normalises). Its parameters are fitted together with the kernel
/// hyperparameters; unlike those they are not in log space.
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/registry.hpp"

namespace thor::gp {

/// A prior mean m(x) with num_params() real parameters.
///
/// Contract for implementers: evaluation functions are const and
/// thread-compatible and must not allocate on the heap; parameters are
/// exchanged through params()/set_params() and bounded by [-bound, bound]
/// where bound is param_bound().
class MeanFunction {
 public:
  MeanFunction() = default;
  virtual ~MeanFunction() = default;
  MeanFunction(const MeanFunction&) = delete;
  MeanFunction& operator=(const MeanFunction&) = delete;

  /// Registry name, stable because it is written to JSON (e.g. "linear").
  virtual std::string name() const = 0;
  /// Number of coordinates of an input point.
  virtual int input_dim() const = 0;
  /// Number of parameters.
  virtual int num_params() const = 0;
  /// Names of the parameters in the order of params().
  virtual std::vector<std::string> param_names() const = 0;
  /// Current parameters.
  virtual Eigen::VectorXd params() const = 0;
  /// Sets the parameters; `p.size()` must equal num_params().
  virtual void set_params(const Eigen::Ref<const Eigen::VectorXd>& p) = 0;
  /// A deep copy.
  virtual std::unique_ptr<MeanFunction> clone() const = 0;

  /// m(x); `x` points to input_dim() coordinates.
  virtual double eval(const double* x) const = 0;
  /// Writes d m(x) / d param_p to grad[0 .. num_params()).
  virtual void gradient(const double* x, double* grad) const = 0;
  /// Writes d m(x) / d x to grad[0 .. input_dim()).
  virtual void input_gradient(const double* x, double* grad) const = 0;
  /// out[i] = m(X.row(i)); default loops over eval().
  virtual void eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                          Eigen::Ref<Eigen::VectorXd> out) const;

  /// Absolute bound on every parameter used by the optimiser.
  double param_bound() const { return param_bound_; }
  /// Sets the absolute bound on every parameter (must be > 0).
  void set_param_bound(double bound) { param_bound_ = bound; }

 private:
  double param_bound_ = 100.0;
};

/// m(x) = 0. No parameters.
class ZeroMean final : public MeanFunction {
 public:
  explicit ZeroMean(int input_dim) : dim_(input_dim) {}
  std::string name() const override { return "zero"; }
  int input_dim() const override { return dim_; }
  int num_params() const override { return 0; }
  std::vector<std::string> param_names() const override { return {}; }
  Eigen::VectorXd params() const override { return Eigen::VectorXd(); }
  void set_params(const Eigen::Ref<const Eigen::VectorXd>& p) override;
  std::unique_ptr<MeanFunction> clone() const override;
  double eval(const double*) const override { return 0.0; }
  void gradient(const double*, double*) const override {}
  void input_gradient(const double* x, double* grad) const override;
  void eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  Eigen::Ref<Eigen::VectorXd> out) const override;

 private:
  int dim_;
};

/// m(x) = c. One parameter, "constant".
class ConstantMean final : public MeanFunction {
 public:
  explicit ConstantMean(int input_dim, double value = 0.0) : dim_(input_dim), c_(value) {}
  std::string name() const override { return "constant"; }
  int input_dim() const override { return dim_; }
  int num_params() const override { return 1; }
  std::vector<std::string> param_names() const override { return {"constant"}; }
  Eigen::VectorXd params() const override;
  void set_params(const Eigen::Ref<const Eigen::VectorXd>& p) override;
  std::unique_ptr<MeanFunction> clone() const override;
  double eval(const double*) const override { return c_; }
  void gradient(const double*, double* grad) const override { grad[0] = 1.0; }
  void input_gradient(const double* x, double* grad) const override;
  void eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  Eigen::Ref<Eigen::VectorXd> out) const override;

 private:
  int dim_;
  double c_;
};

/// m(x) = c + sum_d w_d x_d. Parameters: "constant", "weight[0]" .. "weight[d-1]".
class LinearMean final : public MeanFunction {
 public:
  explicit LinearMean(int input_dim);
  std::string name() const override { return "linear"; }
  int input_dim() const override { return dim_; }
  int num_params() const override { return dim_ + 1; }
  std::vector<std::string> param_names() const override;
  Eigen::VectorXd params() const override;
  void set_params(const Eigen::Ref<const Eigen::VectorXd>& p) override;
  std::unique_ptr<MeanFunction> clone() const override;
  double eval(const double* x) const override;
  void gradient(const double* x, double* grad) const override;
  void input_gradient(const double* x, double* grad) const override;
  void eval_batch(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  Eigen::Ref<Eigen::VectorXd> out) const override;

 private:
  int dim_;
  double c_ = 0.0;
  Eigen::VectorXd w_;
};

/// Builds a mean function over `input_dim` coordinates.
using MeanFactory = std::function<std::unique_ptr<MeanFunction>(int input_dim)>;

/// The mean functions by name: "zero", "constant" and "linear" are built
/// in; add your own with mean_registry().add(name, factory).
Registry<MeanFactory>& mean_registry();
/// Builds a registered mean; an InputError ("gp: unknown mean ...") lists
/// the registered names when `name` is unknown.
std::unique_ptr<MeanFunction> make_mean(const std::string& name, int input_dim);

}  // namespace thor::gp
