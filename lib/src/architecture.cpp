// Architecture parsing, shape inference and FLOPs counting.
#include "thor/architecture.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

#include "block_rules.hpp"
#include "thor/yaml_util.hpp"

namespace thor {

std::string to_string(LayerType type) {
  switch (type) {
    case LayerType::conv:
      return "conv";
    case LayerType::linear:
      return "linear";
    case LayerType::batchnorm:
      return "batchnorm";
    case LayerType::relu:
      return "relu";
    case LayerType::maxpool:
      return "maxpool";
    case LayerType::avgpool:
      return "avgpool";
    case LayerType::flatten:
      return "flatten";
    case LayerType::dropout:
      return "dropout";
    case LayerType::residual:
      return "residual";
    case LayerType::bottleneck:
      return "bottleneck";
    case LayerType::global_avgpool:
      return "global_avgpool";
    case LayerType::conv1d:
      return "conv1d";
    case LayerType::maxpool1d:
      return "maxpool1d";
    case LayerType::lstm:
      return "lstm";
    case LayerType::last:
      return "last";
    case LayerType::encoder:
      return "encoder";
    case LayerType::embedding:
      return "embedding";
  }
  return "?";
}

std::string to_string(Layout layout) {
  switch (layout) {
    case Layout::image:
      return "image [C, H, W]";
    case Layout::flat:
      return "flat [F]";
    case Layout::channels:
      return "channels-first [C, L]";
    case Layout::sequence:
      return "time-first [T, F]";
    case Layout::tokens:
      return "tokens [T]";
  }
  return "?";
}

bool Layer::parametric() const {
  switch (type) {
    case LayerType::conv:
    case LayerType::linear:
    case LayerType::residual:
    case LayerType::bottleneck:
    case LayerType::conv1d:
    case LayerType::lstm:
    case LayerType::encoder:
    case LayerType::embedding:
      return true;
    default:
      return false;
  }
}

int64_t Layer::effective_stride() const {
  if (stride > 0) return stride;
  if (type == LayerType::maxpool || type == LayerType::avgpool || type == LayerType::maxpool1d)
    return kernel;
  return 1;
}

Layer Layer::conv(int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  Layer l;
  l.type = LayerType::conv;
  l.out = out;
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  return l;
}
Layer Layer::linear(int64_t out) {
  Layer l;
  l.type = LayerType::linear;
  l.out = out;
  return l;
}
Layer Layer::simple(LayerType type) {
  Layer l;
  l.type = type;
  return l;
}
Layer Layer::pool(LayerType type, int64_t kernel, int64_t stride) {
  Layer l;
  l.type = type;
  l.kernel = kernel;
  l.stride = stride;
  return l;
}
Layer Layer::dropout(double p) {
  Layer l;
  l.type = LayerType::dropout;
  l.p = p;
  return l;
}
bool Layer::operator==(const Layer& o) const {
  return type == o.type && out == o.out && kernel == o.kernel &&
         effective_stride() == o.effective_stride() && padding == o.padding && mid == o.mid &&
         heads == o.heads && depth == o.depth && vocab == o.vocab &&
         (type != LayerType::dropout || p == o.p);
}

bool Architecture::operator==(const Architecture& o) const {
  return input == o.input && layout == o.layout && batch_size == o.batch_size && layers == o.layers;
}

Layout Architecture::input_layout() const {
  switch (layout) {
    case InputLayout::automatic:
      if (input.size() == 3) return Layout::image;
      if (input.size() == 1) return Layout::flat;
      throw InputError(
          "input: a 2-D input needs 'layout: channels' ([C, L], for conv1d) or "
          "'layout: sequence' ([T, F], time first, for lstm and encoder)");
    case InputLayout::channels:
    case InputLayout::sequence:
      if (input.size() != 2)
        throw InputError(std::string("input: layout '") +
                         (layout == InputLayout::channels ? "channels" : "sequence") +
                         "' needs a 2-D input, got " + detail::shape_text(input));
      return layout == InputLayout::channels ? Layout::channels : Layout::sequence;
    case InputLayout::tokens:
      if (input.size() != 1)
        throw InputError("input: layout 'tokens' needs a 1-D input [T], got " +
                         detail::shape_text(input));
      return Layout::tokens;
  }
  return Layout::image;
}

int64_t Architecture::input_channels() const {
  switch (input_layout()) {
    case Layout::sequence:
      return input[1];
    case Layout::tokens:
      return 1;
    default:
      return input[0];
  }
}

namespace {

int64_t numel(const std::vector<int64_t>& s) {
  return std::accumulate(s.begin(), s.end(), int64_t{1}, std::multiplies<int64_t>());
}

[[noreturn]] void layer_error(size_t index, const Layer& layer, const std::string& why) {
  throw InputError("layer " + std::to_string(index) + " (" + to_string(layer.type) + "): " + why);
}

// Larger sizes are refused before arithmetic on them can overflow int64: a
// layer's out, kernel, stride or padding (kMaxSize), and the values of one
// sample's tensor, of a layer's or of the network's parameters.
constexpr int64_t kMaxSize = (int64_t{1} << 31) - 1;
constexpr double kMaxValues = static_cast<double>(int64_t{1} << 40);

// The number of values of a shape (a double: it cannot overflow).
double values(const std::vector<int64_t>& s) {
  double v = 1.0;
  for (int64_t d : s) v *= static_cast<double>(d);
  return v;
}

// Parameters `p` (computed in double) as an int64, when at most 2^40.
int64_t checked_params(size_t i, const Layer& l, double p) {
  if (p > kMaxValues)
    layer_error(i, l, "has " + value_text(p) + " parameters; expected at most 2^40");
  return static_cast<int64_t>(p);
}

std::string shape_str(const std::vector<int64_t>& s) { return detail::shape_text(s); }

// conv: shape, parameters and FLOPs (counted as Architecture::infer says).
void infer_conv(size_t i, const Layer& l, std::vector<int64_t>& shape, LayerInfo& info, double B,
                bool seen_parametric) {
  if (shape.size() != 3) layer_error(i, l, "needs a [C, H, W] input, got " + shape_str(shape));
  if (l.out <= 0)
    layer_error(i, l, "out must be positive (zero channels), got " + std::to_string(l.out));
  if (l.kernel <= 0) layer_error(i, l, "kernel must be positive, got " + std::to_string(l.kernel));
  if (l.padding < 0) layer_error(i, l, "padding must be >= 0");
  if (l.effective_stride() <= 0) layer_error(i, l, "stride must be positive");
  const int64_t h = shape[1] + 2 * l.padding, w = shape[2] + 2 * l.padding;
  if (l.kernel > h || l.kernel > w)
    layer_error(i, l,
                "kernel " + std::to_string(l.kernel) + " is larger than its padded input " +
                    std::to_string(h) + "x" + std::to_string(w));
  const int64_t s = l.effective_stride();
  const int64_t oh = (h - l.kernel) / s + 1, ow = (w - l.kernel) / s + 1;
  shape = {l.out, oh, ow};
  info.params = checked_params(
      i, l, static_cast<double>(l.out) * info.in_shape[0] * l.kernel * l.kernel + l.out);
  const double macs = static_cast<double>(l.out) * oh * ow * info.in_shape[0] * l.kernel * l.kernel;
  info.forward_flops = B * (2.0 * macs + static_cast<double>(l.out) * oh * ow);
  info.train_flops = info.forward_flops * (seen_parametric ? 3.0 : 2.0) + 2.0 * info.params;
}

// maxpool / avgpool: shape and FLOPs.
void infer_pool(size_t i, const Layer& l, std::vector<int64_t>& shape, LayerInfo& info, double B,
                bool seen_parametric, double n_in) {
  if (shape.size() != 3) layer_error(i, l, "needs a [C, H, W] input, got " + shape_str(shape));
  if (l.kernel <= 0) layer_error(i, l, "kernel must be positive, got " + std::to_string(l.kernel));
  if (l.padding < 0 || 2 * l.padding > l.kernel)
    layer_error(i, l, "padding must be in [0, kernel/2]");
  const int64_t h = shape[1] + 2 * l.padding, w = shape[2] + 2 * l.padding;
  if (l.kernel > h || l.kernel > w)
    layer_error(i, l,
                "kernel " + std::to_string(l.kernel) + " is larger than its input " +
                    std::to_string(shape[1]) + "x" + std::to_string(shape[2]));
  const int64_t s = l.effective_stride();
  if (s <= 0) layer_error(i, l, "stride must be positive");
  shape = {shape[0], (h - l.kernel) / s + 1, (w - l.kernel) / s + 1};
  const double n_out = static_cast<double>(numel(shape));
  info.forward_flops = B * n_out * l.kernel * l.kernel;
  info.train_flops = info.forward_flops + (seen_parametric ? B * n_in : 0.0);
}

}  // namespace

// FLOPs of one training iteration on one batch, counted as follows (a
// multiply-add is 2 FLOPs; the loss is not attributed to any layer):
//   conv/linear  forward  2·B·MACs + bias adds
//                backward 2× forward (input and weight gradients); 1× for the
//                         first parametric layer, whose input needs no gradient
//                step     2·params (SGD: w -= lr·g)
//   batchnorm    forward 4·B·n, backward 8·B·n, step 2·params
//   relu         forward B·n, backward B·n
//   pools        forward B·out·k², backward B·in
//   dropout      forward 2·B·n, backward B·n
//   flatten      0
// Layers before the first parametric layer have no backward pass. A linear
// layer on a [T, D] sequence counts T positions. Blocks: block_rules.cpp.
namespace {

// linear: on a flat [F] input, or on each step of a time-first [T, D] one.
void infer_linear(detail::InferStep& st) {
  const Layer& l = *st.layer;
  auto& shape = *st.shape;
  if (*st.layout != Layout::flat && *st.layout != Layout::sequence)
    st.fail("needs a flat input; add a flatten layer before it (input is " + shape_str(shape) +
            ")");
  if (l.out <= 0) st.fail("out must be positive (zero features), got " + std::to_string(l.out));
  const double in = static_cast<double>(shape.back());
  const double steps = shape.size() == 2 ? static_cast<double>(shape[0]) : 1.0;
  LayerInfo& info = *st.info;
  info.params = checked_params(st.index, l, in * l.out + l.out);
  info.forward_flops = st.batch * steps * (2.0 * in * l.out + l.out);
  info.train_flops = info.forward_flops * (st.seen_parametric ? 3.0 : 2.0) + 2.0 * info.params;
  shape.back() = l.out;
}

// Layers without parameters that keep the shape, and flatten.
void infer_simple(detail::InferStep& st, double n_in) {
  const Layer& l = *st.layer;
  LayerInfo& info = *st.info;
  const double B = st.batch;
  switch (l.type) {
    case LayerType::batchnorm:
      if (*st.layout == Layout::sequence)
        st.fail(
            "needs a [C, H, W], [C, L] or flat input (for a sequence, use an encoder's "
            "layer norm)");
      info.params = 2 * (*st.shape)[0];
      info.forward_flops = 4.0 * B * n_in;
      info.train_flops =
          st.seen_parametric ? 12.0 * B * n_in + 2.0 * info.params : info.forward_flops;
      break;
    case LayerType::relu:
      info.forward_flops = B * n_in;
      info.train_flops = info.forward_flops * (st.seen_parametric ? 2.0 : 1.0);
      break;
    case LayerType::dropout:
      if (!(l.p >= 0.0 && l.p < 1.0)) st.fail("p must be in [0, 1), got " + std::to_string(l.p));
      info.forward_flops = 2.0 * B * n_in;
      info.train_flops = info.forward_flops + (st.seen_parametric ? B * n_in : 0.0);
      break;
    default:  // flatten
      *st.shape = {numel(*st.shape)};
      *st.layout = Layout::flat;
      break;
  }
}

void infer_layer(detail::InferStep& st, double n_in) {
  const Layer& l = *st.layer;
  if (*st.layout == Layout::tokens && l.type != LayerType::embedding)
    st.fail("token ids need an embedding layer first");
  switch (l.type) {
    case LayerType::conv:
      infer_conv(st.index, l, *st.shape, *st.info, st.batch, st.seen_parametric);
      break;
    case LayerType::linear:
      infer_linear(st);
      break;
    case LayerType::maxpool:
    case LayerType::avgpool:
      if (*st.layout != Layout::image)
        st.fail("needs a [C, H, W] input, got " + shape_str(*st.shape) +
                (*st.layout == Layout::channels ? " (use maxpool1d)" : ""));
      infer_pool(st.index, l, *st.shape, *st.info, st.batch, st.seen_parametric, n_in);
      break;
    case LayerType::batchnorm:
    case LayerType::relu:
    case LayerType::dropout:
    case LayerType::flatten:
      infer_simple(st, n_in);
      break;
    case LayerType::residual:
      detail::infer_residual(st);
      break;
    case LayerType::bottleneck:
      detail::infer_bottleneck(st);
      break;
    case LayerType::global_avgpool:
      detail::infer_global_avgpool(st);
      break;
    case LayerType::conv1d:
      detail::infer_conv1d(st);
      break;
    case LayerType::maxpool1d:
      detail::infer_maxpool1d(st);
      break;
    case LayerType::lstm:
      detail::infer_lstm(st);
      break;
    case LayerType::last:
      detail::infer_last(st);
      break;
    case LayerType::encoder:
      detail::infer_encoder(st);
      break;
    case LayerType::embedding:
      detail::infer_embedding(st);
      break;
  }
}

}  // namespace

std::vector<LayerInfo> Architecture::infer() const {
  if (input.empty() || input.size() > 3)
    throw InputError("input: expected [C, H, W], [features], [C, L] or [T, F], got " +
                     shape_str(input));
  for (int64_t d : input)
    if (d <= 0)
      throw InputError("input: every dimension must be positive, got " + shape_str(input));
  if (values(input) > kMaxValues)
    throw InputError("input: expected at most 2^40 values per sample, got " + shape_str(input));
  if (batch_size <= 0 || batch_size > (1 << 20))
    throw InputError("batch_size: expected 1 .. 1048576, got " + std::to_string(batch_size));
  if (layers.empty()) throw InputError("layers: the architecture has no layers");

  std::vector<LayerInfo> infos;
  std::vector<int64_t> shape = input;
  Layout layout = input_layout();
  bool seen_parametric = false;
  double total_params = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.out > kMaxSize || l.kernel > kMaxSize || l.stride > kMaxSize || l.padding > kMaxSize ||
        l.mid > kMaxSize || l.heads > kMaxSize || l.vocab > kMaxSize || l.depth > kMaxSize)
      layer_error(i, l, "out, kernel, stride, padding and block sizes must be at most 2147483647");
    LayerInfo info;
    info.in_shape = shape;
    info.in_layout = layout;
    detail::InferStep st{
        i, &l, &shape, &layout, &info, static_cast<double>(batch_size), seen_parametric};
    infer_layer(st, static_cast<double>(numel(shape)));
    seen_parametric = seen_parametric || l.parametric();
    if (values(shape) > kMaxValues)
      layer_error(i, l,
                  "its output " + shape_str(shape) + " holds more than 2^40 values per sample");
    total_params += static_cast<double>(info.params);
    if (total_params > kMaxValues)
      layer_error(i, l, "the network has more than 2^40 parameters up to this layer");
    info.out_shape = shape;
    info.out_layout = layout;
    infos.push_back(std::move(info));
  }
  return infos;
}

void Architecture::validate() const {
  const auto infos = infer();
  if (infos.back().out_layout != Layout::flat)
    throw InputError(
        "layers: the network must end in a flat output (add flatten and linear), ends in " +
        shape_str(infos.back().out_shape));
  bool any = false;
  for (const auto& l : layers) any = any || l.parametric();
  if (!any) throw InputError("layers: the network needs at least one conv or linear layer");
  for (size_t i = layers.size(); i-- > 0;) {
    if (layers[i].parametric()) {
      if (layers[i].type != LayerType::linear)
        layer_error(i, layers[i],
                    "the last parametric layer must be linear (it produces the class scores)");
      break;
    }
  }
}

int64_t Architecture::num_outputs() const { return numel(infer().back().out_shape); }

double Architecture::train_flops() const {
  double total = 0;
  for (const auto& info : infer()) total += info.train_flops;
  return total;
}

int64_t Architecture::params() const {
  int64_t total = 0;
  for (const auto& info : infer()) total += info.params;
  return total;
}

std::vector<int64_t> Architecture::channels() const {
  std::vector<int64_t> out;
  for (const auto& l : layers)
    if (l.parametric()) out.push_back(l.out);
  return out;
}

Architecture Architecture::with_channels(const std::vector<int64_t>& ch) const {
  Architecture a = *this;
  const size_t n = channels().size();
  if (ch.size() != n && ch.size() + 1 != n)
    throw InputError("with_channels: got " + std::to_string(ch.size()) + " counts for " +
                     std::to_string(n) + " parametric layers");
  size_t k = 0;
  for (auto& l : a.layers) {
    if (!l.parametric()) continue;
    if (k < ch.size()) l.out = ch[k];
    ++k;
  }
  return a;
}

}  // namespace thor
