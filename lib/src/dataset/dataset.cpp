#include "thor/dataset.hpp"

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

namespace thor {

int64_t Dataset::sample_numel() const {
  return std::accumulate(sample_shape.begin(), sample_shape.end(), int64_t{1},
                         std::multiplies<int64_t>());
}

Dataset Dataset::head(int64_t n) const {
  Dataset out = *this;
  if (n >= size()) return out;
  out.labels.resize(static_cast<size_t>(n));
  out.data.resize(static_cast<size_t>(n * sample_numel()));
  return out;
}

Dataset random_dataset(const std::vector<int64_t>& sample_shape, int64_t n, int64_t num_classes,
                       uint64_t seed) {
  if (n <= 0) throw InputError("random_dataset: n must be positive, got " + std::to_string(n));
  if (num_classes < 1)
    throw InputError("random_dataset: num_classes must be >= 1, got " +
                     std::to_string(num_classes));
  Dataset d;
  d.name = "random";
  d.sample_shape = sample_shape;
  d.num_classes = num_classes;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  d.data.resize(static_cast<size_t>(n * d.sample_numel()));
  for (auto& v : d.data) v = u(rng);
  std::uniform_int_distribution<int64_t> label(0, num_classes - 1);
  d.labels.resize(static_cast<size_t>(n));
  for (auto& l : d.labels) l = label(rng);
  return d;
}

}  // namespace thor
