#pragma once
// Shape, parameter and FLOPs rules of the layer types beyond the plain
// conv/linear/pool/BN ones: ResNet blocks, 1-D convolutions, recurrent and
// attention layers (one function per type, in block_rules.cpp). Internal to
// architecture.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "thor/architecture.hpp"

namespace thor::detail {

/// One layer's step of shape inference: the input (updated in place to the
/// output), the layer's figures, and whether a parametric layer came before
/// (so that the input's gradient is needed).
struct InferStep {
  size_t index = 0;
  const Layer* layer = nullptr;
  std::vector<int64_t>* shape = nullptr;
  Layout* layout = nullptr;
  LayerInfo* info = nullptr;
  double batch = 1.0;
  bool seen_parametric = false;
  [[noreturn]] void fail(const std::string& why) const;
};

std::string shape_text(const std::vector<int64_t>& s);

void infer_residual(InferStep& s);
void infer_bottleneck(InferStep& s);
void infer_global_avgpool(InferStep& s);
void infer_conv1d(InferStep& s);
void infer_maxpool1d(InferStep& s);
void infer_lstm(InferStep& s);
void infer_last(InferStep& s);
void infer_encoder(InferStep& s);
void infer_embedding(InferStep& s);

/// Whether the residual/bottleneck layer `l` on `in_channels` channels has
/// an identity shortcut (stride 1, same channels) rather than a projection.
inline bool identity_shortcut(const Layer& l, int64_t in_channels) {
  return l.effective_stride() == 1 && in_channels == l.out;
}

}  // namespace thor::detail
