// Architecture parsing, shape inference and FLOPs counting.
#include "thor/architecture.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

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
  }
  return "?";
}

int64_t Layer::effective_stride() const {
  if (stride > 0) return stride;
  if (type == LayerType::maxpool || type == LayerType::avgpool) return kernel;
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
         effective_stride() == o.effective_stride() && padding == o.padding &&
         (type != LayerType::dropout || p == o.p);
}

bool Architecture::operator==(const Architecture& o) const {
  return input == o.input && batch_size == o.batch_size && layers == o.layers;
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

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

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
// Layers before the first parametric layer have no backward pass.
std::vector<LayerInfo> Architecture::infer() const {
  if (input.empty() || input.size() == 2 || input.size() > 3)
    throw InputError("input: expected [C, H, W] or [features], got " + shape_str(input));
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
  const double B = static_cast<double>(batch_size);
  bool seen_parametric = false;
  double total_params = 0.0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    if (l.out > kMaxSize || l.kernel > kMaxSize || l.stride > kMaxSize || l.padding > kMaxSize)
      layer_error(i, l, "out, kernel, stride and padding must be at most 2147483647");
    LayerInfo info;
    info.in_shape = shape;
    const double n_in = static_cast<double>(numel(shape));
    switch (l.type) {
      case LayerType::conv:
        infer_conv(i, l, shape, info, B, seen_parametric);
        seen_parametric = true;
        break;
      case LayerType::linear: {
        if (shape.size() != 1)
          layer_error(i, l,
                      "needs a flat input; add a flatten layer before it (input is " +
                          shape_str(shape) + ")");
        if (l.out <= 0)
          layer_error(i, l, "out must be positive (zero features), got " + std::to_string(l.out));
        info.params = checked_params(i, l, static_cast<double>(shape[0]) * l.out + l.out);
        info.forward_flops = B * (2.0 * shape[0] * l.out + l.out);
        info.train_flops = info.forward_flops * (seen_parametric ? 3.0 : 2.0) + 2.0 * info.params;
        shape = {l.out};
        seen_parametric = true;
        break;
      }
      case LayerType::batchnorm: {
        if (shape.size() != 3 && shape.size() != 1)
          layer_error(i, l, "needs a [C, H, W] or flat input");
        info.params = 2 * shape[0];
        info.forward_flops = 4.0 * B * n_in;
        info.train_flops =
            seen_parametric ? 12.0 * B * n_in + 2.0 * info.params : info.forward_flops;
        break;
      }
      case LayerType::relu:
        info.forward_flops = B * n_in;
        info.train_flops = info.forward_flops * (seen_parametric ? 2.0 : 1.0);
        break;
      case LayerType::dropout:
        if (!(l.p >= 0.0 && l.p < 1.0))
          layer_error(i, l, "p must be in [0, 1), got " + std::to_string(l.p));
        info.forward_flops = 2.0 * B * n_in;
        info.train_flops = info.forward_flops + (seen_parametric ? B * n_in : 0.0);
        break;
      case LayerType::maxpool:
      case LayerType::avgpool:
        infer_pool(i, l, shape, info, B, seen_parametric, n_in);
        break;
      case LayerType::flatten:
        shape = {numel(shape)};
        break;
    }
    if (values(shape) > kMaxValues)
      layer_error(i, l,
                  "its output " + shape_str(shape) + " holds more than 2^40 values per sample");
    total_params += static_cast<double>(info.params);
    if (total_params > kMaxValues)
      layer_error(i, l, "the network has more than 2^40 parameters up to this layer");
    info.out_shape = shape;
    infos.push_back(std::move(info));
  }
  return infos;
}

void Architecture::validate() const {
  const auto infos = infer();
  if (infos.back().out_shape.size() != 1)
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

namespace {

void emit_layer(YAML::Emitter& e, const Layer& l) {
  switch (l.type) {
    case LayerType::conv:
      e << YAML::BeginMap << YAML::Key << "conv" << YAML::Value << YAML::Flow << YAML::BeginMap;
      e << YAML::Key << "out" << YAML::Value << l.out << YAML::Key << "kernel" << YAML::Value
        << l.kernel;
      if (l.effective_stride() != 1)
        e << YAML::Key << "stride" << YAML::Value << l.effective_stride();
      if (l.padding != 0) e << YAML::Key << "padding" << YAML::Value << l.padding;
      e << YAML::EndMap << YAML::EndMap;
      break;
    case LayerType::linear:
      e << YAML::BeginMap << YAML::Key << "linear" << YAML::Value << YAML::Flow << YAML::BeginMap
        << YAML::Key << "out" << YAML::Value << l.out << YAML::EndMap << YAML::EndMap;
      break;
    case LayerType::maxpool:
    case LayerType::avgpool:
      e << YAML::BeginMap << YAML::Key << to_string(l.type) << YAML::Value;
      if (l.effective_stride() == l.kernel && l.padding == 0) {
        e << l.kernel;
      } else {
        e << YAML::Flow << YAML::BeginMap << YAML::Key << "kernel" << YAML::Value << l.kernel
          << YAML::Key << "stride" << YAML::Value << l.effective_stride();
        if (l.padding) e << YAML::Key << "padding" << YAML::Value << l.padding;
        e << YAML::EndMap;
      }
      e << YAML::EndMap;
      break;
    case LayerType::dropout:
      e << YAML::BeginMap << YAML::Key << "dropout" << YAML::Value << l.p << YAML::EndMap;
      break;
    default:
      e << to_string(l.type);
  }
}

}  // namespace

std::string Architecture::to_yaml() const {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "input" << YAML::Value << YAML::Flow << input;
  e << YAML::Key << "batch_size" << YAML::Value << batch_size;
  e << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (const auto& l : layers) emit_layer(e, l);
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string Architecture::summary() const {
  std::ostringstream s;
  s << shape_str(input) << " b" << batch_size << ":";
  for (const auto& l : layers) {
    s << " " << to_string(l.type);
    if (l.type == LayerType::conv)
      s << "(" << l.out << ",k" << l.kernel
        << (l.effective_stride() != 1 ? ",s" + std::to_string(l.effective_stride()) : "")
        << (l.padding ? ",p" + std::to_string(l.padding) : "") << ")";
    else if (l.type == LayerType::linear)
      s << "(" << l.out << ")";
    else if (l.type == LayerType::maxpool || l.type == LayerType::avgpool)
      s << "(" << l.kernel << ")";
  }
  return s.str();
}

namespace {

Layer parse_layer(const YamlCursor& c) {
  if (c.is_scalar()) {
    const std::string name = c.as_string();
    if (name == "relu") return Layer::simple(LayerType::relu);
    if (name == "flatten") return Layer::simple(LayerType::flatten);
    if (name == "batchnorm") return Layer::simple(LayerType::batchnorm);
    if (name == "dropout") return Layer::dropout(0.5);
    if (name == "conv" || name == "linear" || name == "maxpool" || name == "avgpool")
      c.fail("layer '" + name + "' needs parameters, e.g. '- " + name +
             (name == "conv"     ? ": {out: 6, kernel: 5}'"
              : name == "linear" ? ": {out: 10}'"
                                 : ": 2'"));
    c.fail("unknown layer '" + name +
           "'; known: conv, linear, batchnorm, relu, maxpool, avgpool, flatten, dropout");
  }
  if (!c.is_map() || c.node.size() != 1 || !c.node.begin()->first.IsScalar())
    c.fail("expected a layer: a name (relu) or one 'name: parameters' entry");
  const std::string name = c.node.begin()->first.as<std::string>();
  const YamlCursor p = c.child(name);
  if (name == "conv") {
    p.allow_only({"out", "kernel", "stride", "padding"});
    if (!p.has("out")) p.fail("missing 'out' (output channels)");
    if (!p.has("kernel")) p.fail("missing 'kernel'");
    return Layer::conv(p.get_int("out", 0), p.get_int("kernel", 0), p.get_int("stride", 1),
                       p.get_int("padding", 0));
  }
  if (name == "linear") {
    if (p.is_scalar())
      return Layer::linear(p.as_int() > 0 ? p.as_int() : (p.fail("must be positive"), 0));
    p.allow_only({"out"});
    if (!p.has("out")) p.fail("missing 'out' (output features)");
    return Layer::linear(p.get_int("out", 0));
  }
  if (name == "maxpool" || name == "avgpool") {
    const LayerType t = name == "maxpool" ? LayerType::maxpool : LayerType::avgpool;
    if (p.is_scalar()) {
      const int64_t k = p.as_int();
      if (k <= 0) p.fail("kernel must be positive, got " + std::to_string(k));
      return Layer::pool(t, k);
    }
    p.allow_only({"kernel", "stride", "padding"});
    if (!p.has("kernel")) p.fail("missing 'kernel'");
    Layer l = Layer::pool(t, p.get_int("kernel", 0), p.get_int("stride", 0));
    l.padding = p.get_int("padding", 0);
    return l;
  }
  if (name == "dropout") {
    if (p.is_scalar()) {
      const double v = p.as_double();
      if (!(v >= 0 && v < 1)) p.fail("p must be in [0, 1)");
      return Layer::dropout(v);
    }
    p.allow_only({"p"});
    return Layer::dropout(p.get_double("p", 0.5));
  }
  if (name == "relu" || name == "flatten" || name == "batchnorm") {
    if (!p.node.IsNull() && !(p.is_map() && p.node.size() == 0))
      p.fail("layer '" + name + "' takes no parameters");
    return Layer::simple(name == "relu"      ? LayerType::relu
                         : name == "flatten" ? LayerType::flatten
                                             : LayerType::batchnorm);
  }
  c.fail("unknown layer '" + name +
         "'; known: conv, linear, batchnorm, relu, maxpool, avgpool, flatten, dropout");
}

}  // namespace

Architecture parse_architecture_cursor(const YamlCursor& c) {
  c.allow_only({"input", "batch_size", "layers", "name"});
  Architecture a;
  if (!c.has("input")) c.fail("missing 'input' ([C, H, W] or [features])");
  const YamlCursor in = c.child("input");
  a.input = in.as_int_list();
  a.batch_size = c.get_int("batch_size", 32);
  if (!c.has("layers")) c.fail("missing 'layers'");
  const YamlCursor layers = c.child("layers");
  layers.expect_sequence();
  for (size_t i = 0; i < layers.node.size(); ++i) a.layers.push_back(parse_layer(layers.at(i)));
  try {
    a.validate();
  } catch (const InputError& e) {
    // Point at the offending layer's line when the message names one.
    // The rules live in validate(); point at the offending key's line.
    const std::string msg = e.what();
    if (msg.rfind("layer ", 0) == 0) {
      const size_t idx = std::stoul(msg.substr(6));
      if (idx < layers.node.size()) layers.at(idx).fail(msg);
    }
    if (msg.rfind("input: ", 0) == 0) in.fail(msg.substr(7));
    if (msg.rfind("batch_size: ", 0) == 0) c.child("batch_size").fail(msg.substr(12));
    c.fail(msg);
  }
  return a;
}

Architecture parse_architecture(const YAML::Node& node, const std::string& where) {
  return parse_architecture_cursor(YamlCursor{node, where, ""});
}

Architecture load_architecture(const std::string& path) {
  const YamlCursor root = load_yaml_file(path);
  if (root.has("model") && root.child("model").is_map())
    return parse_architecture_cursor(root.child("model"));
  return parse_architecture_cursor(root);
}

Architecture architecture_from_yaml_text(const std::string& text, const std::string& where) {
  return parse_architecture_cursor(load_yaml_text(text, where));
}

}  // namespace thor
