// The architecture file format: parsing YAML into an Architecture (with
// file:line errors) and writing it back, plus the one-line summary.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <sstream>

#include "block_rules.hpp"
#include "thor/architecture.hpp"
#include "thor/yaml_util.hpp"

namespace thor {

namespace {

// A `name: {key: value, ...}` entry.
void emit_map(YAML::Emitter& e, const std::string& name,
              const std::vector<std::pair<const char*, int64_t>>& fields) {
  e << YAML::BeginMap << YAML::Key << name << YAML::Value << YAML::Flow << YAML::BeginMap;
  for (const auto& [k, v] : fields) e << YAML::Key << k << YAML::Value << v;
  e << YAML::EndMap << YAML::EndMap;
}

// The block types (and the parameterless ones by name).
void emit_block(YAML::Emitter& e, const Layer& l) {
  switch (l.type) {
    case LayerType::residual:
      emit_map(e, "residual", {{"out", l.out}, {"stride", l.effective_stride()}});
      break;
    case LayerType::bottleneck:
      emit_map(e, "bottleneck", {{"mid", l.mid}, {"out", l.out}, {"stride", l.effective_stride()}});
      break;
    case LayerType::conv1d:
      emit_map(e, "conv1d",
               {{"out", l.out},
                {"kernel", l.kernel},
                {"stride", l.effective_stride()},
                {"padding", l.padding}});
      break;
    case LayerType::maxpool1d:
      emit_map(e, "maxpool1d",
               {{"kernel", l.kernel}, {"stride", l.effective_stride()}, {"padding", l.padding}});
      break;
    case LayerType::lstm:
      emit_map(e, "lstm", {{"hidden", l.out}, {"layers", l.depth}});
      break;
    case LayerType::encoder:
      emit_map(e, "encoder", {{"heads", l.heads}, {"ff", l.out}});
      break;
    case LayerType::embedding:
      emit_map(e, "embedding", {{"vocab", l.vocab}, {"dim", l.out}});
      break;
    default:
      e << to_string(l.type);
  }
}

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
      emit_block(e, l);
  }
}

}  // namespace

std::string Architecture::to_yaml() const {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "input" << YAML::Value << YAML::Flow << input;
  if (layout != InputLayout::automatic)
    e << YAML::Key << "layout" << YAML::Value
      << (layout == InputLayout::channels   ? "channels"
          : layout == InputLayout::sequence ? "sequence"
                                            : "tokens");
  e << YAML::Key << "batch_size" << YAML::Value << batch_size;
  e << YAML::Key << "layers" << YAML::Value << YAML::BeginSeq;
  for (const auto& l : layers) emit_layer(e, l);
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::string Architecture::summary() const {
  std::ostringstream s;
  s << detail::shape_text(input) << " b" << batch_size << ":";
  for (const auto& l : layers) {
    s << " " << to_string(l.type);
    if (l.type == LayerType::conv)
      s << "(" << l.out << ",k" << l.kernel
        << (l.effective_stride() != 1 ? ",s" + std::to_string(l.effective_stride()) : "")
        << (l.padding ? ",p" + std::to_string(l.padding) : "") << ")";
    else if (l.type == LayerType::linear)
      s << "(" << l.out << ")";
    else if (l.type == LayerType::maxpool || l.type == LayerType::avgpool ||
             l.type == LayerType::maxpool1d)
      s << "(" << l.kernel << ")";
    else if (l.type == LayerType::conv1d)
      s << "(" << l.out << ",k" << l.kernel
        << (l.effective_stride() != 1 ? ",s" + std::to_string(l.effective_stride()) : "")
        << (l.padding ? ",p" + std::to_string(l.padding) : "") << ")";
    else if (l.type == LayerType::residual)
      s << "(" << l.out << (l.effective_stride() != 1 ? ",s2" : "") << ")";
    else if (l.type == LayerType::bottleneck)
      s << "(" << l.mid << "," << l.out << (l.effective_stride() != 1 ? ",s2" : "") << ")";
    else if (l.type == LayerType::lstm)
      s << "(" << l.out << (l.depth != 1 ? ",x" + std::to_string(l.depth) : "") << ")";
    else if (l.type == LayerType::encoder)
      s << "(h" << l.heads << ",ff" << l.out << ")";
    else if (l.type == LayerType::embedding)
      s << "(" << l.vocab << "," << l.out << ")";
  }
  return s.str();
}

namespace {

constexpr const char* kKnownLayers =
    "conv, linear, batchnorm, relu, maxpool, avgpool, flatten, dropout, residual, bottleneck, "
    "global_avgpool, conv1d, maxpool1d, lstm, last, encoder, embedding";

// An example of each layer that needs parameters, for the error message.
const char* layer_example(const std::string& name) {
  if (name == "conv") return ": {out: 6, kernel: 5}";
  if (name == "linear") return ": {out: 10}";
  if (name == "maxpool" || name == "avgpool" || name == "maxpool1d") return ": 2";
  if (name == "residual") return ": {out: 16, stride: 1}";
  if (name == "bottleneck") return ": {mid: 16, out: 64, stride: 1}";
  if (name == "conv1d") return ": {out: 32, kernel: 5, padding: 2}";
  if (name == "lstm") return ": {hidden: 64, layers: 1}";
  if (name == "encoder") return ": {heads: 4, ff: 128}";
  if (name == "embedding") return ": {vocab: 1000, dim: 64}";
  return nullptr;
}

// A required positive integer key of a block.
int64_t positive(const YamlCursor& p, const char* key, const char* what) {
  if (!p.has(key)) p.fail(std::string("missing '") + key + "' (" + what + ")");
  const int64_t v = p.get_int(key, 0);
  if (v <= 0) p.child(key).fail(std::string(key) + " must be positive, got " + std::to_string(v));
  return v;
}

// The block types' parameters; nullopt when `name` is not one of them.
std::optional<Layer> parse_block(const std::string& name, const YamlCursor& p) {
  if (name == "residual" || name == "bottleneck") {
    const bool bn = name == "bottleneck";
    bn ? p.allow_only({"mid", "out", "stride"}) : p.allow_only({"out", "stride"});
    const int64_t mid = bn ? positive(p, "mid", "inner channels") : 0;
    const int64_t out = positive(p, "out", "output channels");
    const int64_t stride = p.get_int("stride", 1);
    if (stride != 1 && stride != 2)
      p.child("stride").fail("stride must be 1 or 2, got " + std::to_string(stride));
    return bn ? Layer::bottleneck(mid, out, stride) : Layer::residual(out, stride);
  }
  if (name == "conv1d") {
    p.allow_only({"out", "kernel", "stride", "padding"});
    return Layer::conv1d(positive(p, "out", "output channels"), positive(p, "kernel", "length"),
                         p.get_int("stride", 1), p.get_int("padding", 0));
  }
  if (name == "lstm") {
    p.allow_only({"hidden", "layers"});
    return Layer::lstm(positive(p, "hidden", "hidden size"), p.get_int("layers", 1));
  }
  if (name == "encoder") {
    p.allow_only({"heads", "ff"});
    return Layer::encoder(positive(p, "heads", "attention heads"),
                          positive(p, "ff", "feed-forward width"));
  }
  if (name == "embedding") {
    p.allow_only({"vocab", "dim"});
    return Layer::embedding(positive(p, "vocab", "token ids"), positive(p, "dim", "dimension"));
  }
  return std::nullopt;
}

Layer parse_layer(const YamlCursor& c) {
  if (c.is_scalar()) {
    const std::string name = c.as_string();
    if (name == "relu") return Layer::simple(LayerType::relu);
    if (name == "flatten") return Layer::simple(LayerType::flatten);
    if (name == "batchnorm") return Layer::simple(LayerType::batchnorm);
    if (name == "global_avgpool") return Layer::simple(LayerType::global_avgpool);
    if (name == "last") return Layer::simple(LayerType::last);
    if (name == "dropout") return Layer::dropout(0.5);
    if (const char* example = layer_example(name))
      c.fail("layer '" + name + "' needs parameters, e.g. '- " + name + example + "'");
    c.fail("unknown layer '" + name + "'; known: " + kKnownLayers);
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
  if (auto block = parse_block(name, p)) return *block;
  if (name == "maxpool" || name == "avgpool" || name == "maxpool1d") {
    const LayerType t = name == "maxpool"   ? LayerType::maxpool
                        : name == "avgpool" ? LayerType::avgpool
                                            : LayerType::maxpool1d;
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
  if (name == "relu" || name == "flatten" || name == "batchnorm" || name == "global_avgpool" ||
      name == "last") {
    if (!p.node.IsNull() && !(p.is_map() && p.node.size() == 0))
      p.fail("layer '" + name + "' takes no parameters");
    return Layer::simple(name == "relu"             ? LayerType::relu
                         : name == "flatten"        ? LayerType::flatten
                         : name == "batchnorm"      ? LayerType::batchnorm
                         : name == "global_avgpool" ? LayerType::global_avgpool
                                                    : LayerType::last);
  }
  c.fail("unknown layer '" + name + "'; known: " + kKnownLayers);
}

}  // namespace

Architecture parse_architecture_cursor(const YamlCursor& c) {
  c.allow_only({"input", "layout", "batch_size", "layers", "name"});
  Architecture a;
  if (!c.has("input")) c.fail("missing 'input' ([C, H, W] or [features])");
  const YamlCursor in = c.child("input");
  a.input = in.as_int_list();
  if (c.has("layout")) {
    const YamlCursor lc = c.child("layout");
    const std::string v = lc.as_string();
    if (v == "channels")
      a.layout = Architecture::InputLayout::channels;
    else if (v == "sequence")
      a.layout = Architecture::InputLayout::sequence;
    else if (v == "tokens")
      a.layout = Architecture::InputLayout::tokens;
    else
      lc.fail("layout '" + v + "': expected channels ([C, L]), sequence ([T, F]) or tokens ([T])");
    try {
      a.input_layout();
    } catch (const InputError& e) {
      lc.fail(std::string(e.what()).substr(7));
    }
  }
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
