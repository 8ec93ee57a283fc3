#pragma once
// Loads tests/gp/golden/sklearn_cases.json (made by tests/gp/make_golden.py).
#include <Eigen/Core>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace thor::gp::test {

struct GoldenCase {
  std::string name, kernel;
  int dim = 0;
  bool noise_kernel = false;
  Eigen::MatrixXd X, T;
  Eigen::VectorXd y, mean, std;
  Eigen::VectorXd length_scale;  // raw input units
  double signal_variance = 0, noise_variance = 0, lml = 0;
  bool std_includes_noise = false;
};

inline std::string source_path(const std::string& rel) {
  const char* root = std::getenv("THOR_SOURCE_DIR");
  return root ? std::string(root) + "/" + rel : rel;
}

inline Eigen::MatrixXd to_matrix(const nlohmann::json& a) {
  Eigen::MatrixXd M(a.size(), a.at(0).size());
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t k = 0; k < a[i].size(); ++k) M(i, k) = a[i][k].get<double>();
  return M;
}

inline Eigen::VectorXd to_vector(const nlohmann::json& a) {
  Eigen::VectorXd v(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) v[i] = a[i].get<double>();
  return v;
}

inline std::vector<GoldenCase> load_golden() {
  const std::string path = source_path("tests/gp/golden/sklearn_cases.json");
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  const nlohmann::json j = nlohmann::json::parse(in);
  std::vector<GoldenCase> cases;
  for (const auto& c : j.at("cases")) {
    GoldenCase g;
    g.name = c.at("name");
    g.kernel = c.at("kernel");
    g.dim = c.at("dim");
    g.noise_kernel = c.at("noise_kernel");
    g.X = to_matrix(c.at("X"));
    g.y = to_vector(c.at("y"));
    g.T = to_matrix(c.at("X_test"));
    g.mean = to_vector(c.at("mean"));
    g.std = to_vector(c.at("std"));
    const auto& s = c.at("sklearn");
    g.length_scale = to_vector(s.at("length_scale"));
    g.signal_variance = s.at("signal_variance");
    g.noise_variance = s.at("noise_variance");
    g.std_includes_noise = s.at("std_includes_noise");
    g.lml = s.at("log_marginal_likelihood");
    cases.push_back(std::move(g));
  }
  return cases;
}

inline double rel_err(double a, double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}

}  // namespace thor::gp::test
