// Shape, parameter and FLOPs rules of ResNet blocks, 1-D convolutions,
// LSTMs, Transformer encoder layers and embeddings. Counted like the plain
// layers (architecture.cpp): a multiply-add is 2 FLOPs; matrix products
// cost 2x forward in backward (input and weight gradients; 1x when the
// input needs no gradient, before the first parametric layer); elementwise
// work costs 1x forward in backward; the SGD step 2 FLOPs per parameter.
//   residual    conv3x3(C→O, s)-BN-ReLU-conv3x3(O→O)-BN (+ conv1x1(C→O, s)-BN
//               shortcut unless s = 1 and C = O), add, ReLU; convs without bias
//   bottleneck  conv1x1(C→M)-BN-ReLU-conv3x3(M→M, s)-BN-ReLU-conv1x1(M→O)-BN,
//               shortcut as residual, add, ReLU
//   conv1d      2·B·O·L'·C·k + bias adds, as conv
//   lstm        per layer and step: 8H(I+H) + 8H (gates and both biases),
//               9H elementwise (3 sigmoids, 2 tanh, 3 products, 1 sum)
//   encoder     per sequence: QKV 6TD² + 3TD, scores 2T²D, weighted sum
//               2T²D, out proj 2TD² + TD, feed-forward 4TDF + TF + TD;
//               elementwise 8hT² (scale, softmax, dropout), 22TD (two
//               dropouts, adds, layer norms), 3TF (ReLU, dropout)
//   embedding   gather B·T·D forward, scatter-add B·T·D backward
//   global_avgpool B·n forward, B·n backward; last 0 forward, B·n backward
#include "block_rules.hpp"

#include <cmath>

namespace thor {

Layer Layer::residual(int64_t out, int64_t stride) {
  Layer l = conv(out, 3, stride, 1);
  l.type = LayerType::residual;
  return l;
}
Layer Layer::bottleneck(int64_t mid, int64_t out, int64_t stride) {
  Layer l = residual(out, stride);
  l.type = LayerType::bottleneck;
  l.mid = mid;
  return l;
}
Layer Layer::conv1d(int64_t out, int64_t kernel, int64_t stride, int64_t padding) {
  Layer l = conv(out, kernel, stride, padding);
  l.type = LayerType::conv1d;
  return l;
}
Layer Layer::lstm(int64_t hidden, int64_t depth) {
  Layer l = linear(hidden);
  l.type = LayerType::lstm;
  l.depth = depth;
  return l;
}
Layer Layer::encoder(int64_t heads, int64_t ff) {
  Layer l = linear(ff);
  l.type = LayerType::encoder;
  l.heads = heads;
  return l;
}
Layer Layer::embedding(int64_t vocab, int64_t dim) {
  Layer l = linear(dim);
  l.type = LayerType::embedding;
  l.vocab = vocab;
  return l;
}

}  // namespace thor

namespace thor::detail {

void InferStep::fail(const std::string& why) const {
  throw InputError("layer " + std::to_string(index) + " (" + to_string(layer->type) + "): " + why);
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

namespace {

// Parameters, forward and training FLOPs of a part of a block.
struct Cost {
  double params = 0, forward = 0, train = 0;
  Cost& operator+=(const Cost& o) {
    params += o.params;
    forward += o.forward;
    train += o.train;
    return *this;
  }
};

// A convolution of `k2` kernel taps over `positions` outputs per sample.
Cost conv_part(double cin, double cout, double k2, double positions, bool bias, bool grad_in,
               double B) {
  Cost c;
  c.params = cout * cin * k2 + (bias ? cout : 0.0);
  c.forward = B * (2.0 * cout * positions * cin * k2 + (bias ? cout * positions : 0.0));
  c.train = c.forward * (grad_in ? 3.0 : 2.0) + 2.0 * c.params;
  return c;
}

// Batch norm over `n` values per sample with `channels` channels (after a conv).
Cost bn_part(double channels, double n, double B) {
  return {2.0 * channels, 4.0 * B * n, 12.0 * B * n + 4.0 * channels};
}

// Elementwise work of `ops` operations per value over `n` values per sample.
Cost elementwise(double n, double ops, double B) { return {0.0, ops * B * n, 2.0 * ops * B * n}; }

void require_layout(const InferStep& s, Layout want, const std::string& what) {
  if (*s.layout != want)
    s.fail("needs a " + what + " input, got " + shape_text(*s.shape) + " (" + to_string(*s.layout) +
           ")");
}

void require_positive(const InferStep& s, int64_t v, const std::string& name) {
  if (v <= 0) s.fail(name + " must be positive, got " + std::to_string(v));
}

void store(InferStep& s, const Cost& c) {
  if (c.params > static_cast<double>(int64_t{1} << 40)) s.fail("has more than 2^40 parameters");
  s.info->params = static_cast<int64_t>(c.params);
  s.info->forward_flops = c.forward;
  s.info->train_flops = c.train;
}

// Output side of a 3x3 convolution with padding 1 and stride `st`.
int64_t strided(int64_t n, int64_t st) { return (n - 1) / st + 1; }

// The shortcut of a residual or bottleneck block.
Cost shortcut(const Layer& l, double cin, double positions, bool grad_in, double B) {
  Cost c;
  if (identity_shortcut(l, static_cast<int64_t>(cin))) return c;
  c += conv_part(cin, static_cast<double>(l.out), 1.0, positions, false, grad_in, B);
  c += bn_part(static_cast<double>(l.out), static_cast<double>(l.out) * positions, B);
  return c;
}

void residual_shape(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::image, "[C, H, W]");
  require_positive(s, l.out, "out");
  if (l.effective_stride() <= 0 || l.effective_stride() > 2)
    s.fail("stride must be 1 or 2, got " + std::to_string(l.effective_stride()));
  auto& sh = *s.shape;
  sh = {l.out, strided(sh[1], l.effective_stride()), strided(sh[2], l.effective_stride())};
}

}  // namespace

void infer_residual(InferStep& s) {
  const Layer& l = *s.layer;
  const double cin = static_cast<double>((*s.shape)[0]), o = static_cast<double>(l.out);
  residual_shape(s);
  const double P = static_cast<double>((*s.shape)[1] * (*s.shape)[2]), B = s.batch;
  Cost c = conv_part(cin, o, 9.0, P, false, s.seen_parametric, B);
  c += bn_part(o, o * P, B);
  c += elementwise(o * P, 1.0, B);
  c += conv_part(o, o, 9.0, P, false, true, B);
  c += bn_part(o, o * P, B);
  c += shortcut(l, cin, P, s.seen_parametric, B);
  c += elementwise(o * P, 2.0, B);  // the sum and the ReLU after it
  store(s, c);
}

void infer_bottleneck(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::image, "[C, H, W]");
  require_positive(s, l.mid, "mid");
  const double cin = static_cast<double>((*s.shape)[0]), m = static_cast<double>(l.mid),
               o = static_cast<double>(l.out);
  const double P_in = static_cast<double>((*s.shape)[1] * (*s.shape)[2]);
  residual_shape(s);
  const double P = static_cast<double>((*s.shape)[1] * (*s.shape)[2]), B = s.batch;
  Cost c = conv_part(cin, m, 1.0, P_in, false, s.seen_parametric, B);
  c += bn_part(m, m * P_in, B);
  c += elementwise(m * P_in, 1.0, B);
  c += conv_part(m, m, 9.0, P, false, true, B);
  c += bn_part(m, m * P, B);
  c += elementwise(m * P, 1.0, B);
  c += conv_part(m, o, 1.0, P, false, true, B);
  c += bn_part(o, o * P, B);
  c += shortcut(l, cin, P, s.seen_parametric, B);
  c += elementwise(o * P, 2.0, B);
  store(s, c);
}

void infer_global_avgpool(InferStep& s) {
  auto& sh = *s.shape;
  const double n = static_cast<double>(sh.empty() ? 0 : sh[0]) *
                   (sh.size() > 1 ? static_cast<double>(sh[1]) : 1.0) *
                   (sh.size() > 2 ? static_cast<double>(sh[2]) : 1.0);
  switch (*s.layout) {
    case Layout::image:
    case Layout::channels:
      sh = {sh[0]};
      break;
    case Layout::sequence:
      sh = {sh[1]};
      break;
    default:
      s.fail("needs a [C, H, W], [C, L] or [T, D] input, got " + shape_text(sh) + " (" +
             to_string(*s.layout) + ")");
  }
  *s.layout = Layout::flat;
  store(s, {0.0, s.batch * n, s.batch * n * (s.seen_parametric ? 2.0 : 1.0)});
}

void infer_conv1d(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::channels, "channels-first [C, L]");
  require_positive(s, l.out, "out");
  require_positive(s, l.kernel, "kernel");
  if (l.padding < 0) s.fail("padding must be >= 0");
  if (l.effective_stride() <= 0) s.fail("stride must be positive");
  auto& sh = *s.shape;
  const int64_t len = sh[1] + 2 * l.padding;
  if (l.kernel > len)
    s.fail("kernel " + std::to_string(l.kernel) + " is longer than its padded input " +
           std::to_string(len));
  const double cin = static_cast<double>(sh[0]);
  sh = {l.out, (len - l.kernel) / l.effective_stride() + 1};
  store(s, conv_part(cin, static_cast<double>(l.out), static_cast<double>(l.kernel),
                     static_cast<double>(sh[1]), true, s.seen_parametric, s.batch));
}

void infer_maxpool1d(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::channels, "channels-first [C, L]");
  require_positive(s, l.kernel, "kernel");
  if (l.padding < 0 || 2 * l.padding > l.kernel) s.fail("padding must be in [0, kernel/2]");
  if (l.effective_stride() <= 0) s.fail("stride must be positive");
  auto& sh = *s.shape;
  const double n_in = static_cast<double>(sh[0] * sh[1]);
  const int64_t len = sh[1] + 2 * l.padding;
  if (l.kernel > len)
    s.fail("kernel " + std::to_string(l.kernel) + " is longer than its input " +
           std::to_string(sh[1]));
  sh = {sh[0], (len - l.kernel) / l.effective_stride() + 1};
  const double fwd = s.batch * static_cast<double>(sh[0] * sh[1] * l.kernel);
  store(s, {0.0, fwd, fwd + (s.seen_parametric ? s.batch * n_in : 0.0)});
}

void infer_lstm(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::sequence, "time-first [T, F]");
  require_positive(s, l.out, "hidden");
  if (l.depth < 1 || l.depth > 64)
    s.fail("layers must be in 1..64, got " + std::to_string(l.depth));
  auto& sh = *s.shape;
  const double T = static_cast<double>(sh[0]), H = static_cast<double>(l.out), B = s.batch;
  Cost c;
  for (int64_t k = 0; k < l.depth; ++k) {
    const double I = k == 0 ? static_cast<double>(sh[1]) : H;
    Cost layer;
    layer.params = 4.0 * H * (I + H) + 8.0 * H;
    const double mm = B * T * (8.0 * H * (I + H) + 8.0 * H), ew = B * T * 9.0 * H;
    layer.forward = mm + ew;
    layer.train = mm * (k > 0 || s.seen_parametric ? 3.0 : 2.0) + 2.0 * ew + 2.0 * layer.params;
    c += layer;
  }
  sh = {sh[0], l.out};
  store(s, c);
}

void infer_last(InferStep& s) {
  require_layout(s, Layout::sequence, "time-first [T, H]");
  auto& sh = *s.shape;
  const double n_in = static_cast<double>(sh[0] * sh[1]);
  sh = {sh[1]};
  *s.layout = Layout::flat;
  store(s, {0.0, 0.0, s.seen_parametric ? s.batch * n_in : 0.0});
}

void infer_encoder(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::sequence, "time-first [T, D]");
  require_positive(s, l.heads, "heads");
  require_positive(s, l.out, "ff");
  const auto& sh = *s.shape;
  if (sh[1] % l.heads != 0)
    s.fail("heads (" + std::to_string(l.heads) + ") must divide the model dimension " +
           std::to_string(sh[1]));
  const double T = static_cast<double>(sh[0]), D = static_cast<double>(sh[1]),
               F = static_cast<double>(l.out), h = static_cast<double>(l.heads), B = s.batch;
  const double mm = B * (T * (6.0 * D * D + 3.0 * D) + 4.0 * T * T * D + T * (2.0 * D * D + D) +
                         T * (4.0 * D * F + F + D));
  const double ew = B * (8.0 * h * T * T + 22.0 * T * D + 3.0 * T * F);
  Cost c;
  c.params = 4.0 * D * D + 2.0 * D * F + 9.0 * D + F;
  c.forward = mm + ew;
  c.train = mm * (s.seen_parametric ? 3.0 : 2.0) + 2.0 * ew + 2.0 * c.params;
  store(s, c);
}

void infer_embedding(InferStep& s) {
  const Layer& l = *s.layer;
  require_layout(s, Layout::tokens, "token [T]");
  require_positive(s, l.vocab, "vocab");
  require_positive(s, l.out, "dim");
  auto& sh = *s.shape;
  const double T = static_cast<double>(sh[0]), D = static_cast<double>(l.out);
  const double params = static_cast<double>(l.vocab) * D;
  sh = {sh[0], l.out};
  *s.layout = Layout::sequence;
  store(s, {params, s.batch * T * D, 2.0 * s.batch * T * D + 2.0 * params});
}

}  // namespace thor::detail
