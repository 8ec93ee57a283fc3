#pragma once
// Internal: a buffer of doubles on the stack when small, on the heap otherwise,
// so that single-point paths do not allocate for the sizes thor uses.
#include <cstddef>
#include <vector>

namespace thor::gp::detail {

template <std::size_t N>
class SmallBuffer {
 public:
  explicit SmallBuffer(std::size_t size) : size_(size) {
    if (size > N) heap_.resize(size);
  }
  double* data() { return size_ > N ? heap_.data() : stack_; }
  const double* data() const { return size_ > N ? heap_.data() : stack_; }
  double& operator[](std::size_t i) { return data()[i]; }
  std::size_t size() const { return size_; }

 private:
  std::size_t size_;
  alignas(32) double stack_[N];
  std::vector<double> heap_;
};

}  // namespace thor::gp::detail
