#include "thor/layer_kind.hpp"

#include <numeric>
#include <sstream>

namespace thor {

std::string to_string(BlockRole role) {
  switch (role) {
    case BlockRole::input:
      return "input";
    case BlockRole::hidden:
      return "hidden";
    case BlockRole::output:
      return "output";
  }
  return "?";
}

std::vector<double> block_features(BlockRole role, int64_t c_in, int64_t c_out, bool tied) {
  if (tied && role == BlockRole::hidden) return {static_cast<double>(c_out)};
  switch (role) {
    case BlockRole::input:
      return {static_cast<double>(c_out)};
    case BlockRole::output:
      return {static_cast<double>(c_in)};
    case BlockRole::hidden:
      return {static_cast<double>(c_in), static_cast<double>(c_out)};
  }
  return {};
}

int64_t layout_width(const std::vector<int64_t>& shape, Layout layout) {
  if (layout == Layout::tokens) return 1;
  if (layout == Layout::sequence) return shape.at(1);
  return shape.at(0);
}

std::vector<int64_t> width_multiples(const Architecture& arch) {
  std::vector<int64_t> m;
  int64_t from = -1;  // the channels() entry setting the current width (-1: the data)
  for (const auto& l : arch.layers) {
    if (!l.parametric()) continue;
    if (l.type == LayerType::encoder && from >= 0 && l.heads > 0)
      m[from] = std::lcm(m[from], l.heads);
    m.push_back(1);
    if (l.sets_width()) from = static_cast<int64_t>(m.size()) - 1;
  }
  return m;
}

Architecture conform_widths(const Architecture& base, std::vector<int64_t> channels) {
  const auto multiple = width_multiples(base);
  const auto infos = base.infer();
  int64_t from = -1;  // channels() entry setting the current width (-1: the data)
  size_t k = 0;
  for (size_t i = 0; i < base.layers.size() && k < channels.size(); ++i) {
    const Layer& l = base.layers[i];
    if (!l.parametric()) continue;
    const bool tied = (l.type == LayerType::residual || l.type == LayerType::bottleneck) &&
                      l.effective_stride() == 1 &&
                      layout_width(infos[i].in_shape, infos[i].in_layout) == l.out;
    if (tied)
      channels[k] = from < 0 ? base.input_channels() : channels[static_cast<size_t>(from)];
    else
      channels[k] = std::max(multiple[k], channels[k] / multiple[k] * multiple[k]);
    if (l.sets_width()) from = static_cast<int64_t>(k);
    ++k;
  }
  return base.with_channels(channels);
}

namespace {

bool quadratic_type(LayerType t) {
  return t == LayerType::residual || t == LayerType::bottleneck || t == LayerType::lstm ||
         t == LayerType::encoder;
}

// The residual-style token: stride, and "id" for an identity shortcut
// (C_in = C_out, stride 1) or "proj" for a projection.
void shortcut_token(std::ostringstream& s, const Layer& l, int64_t c_in) {
  const bool id = l.effective_stride() == 1 && c_in == l.out;
  s << "(s" << l.effective_stride();
  if (l.type == LayerType::bottleneck) s << ",e" << static_cast<double>(l.out) / l.mid;
  s << (id ? ",id)" : ",proj)");
}

std::string layer_token(const Layer& l, int64_t c_in) {
  std::ostringstream s;
  s << to_string(l.type);
  switch (l.type) {
    case LayerType::residual:
    case LayerType::bottleneck:
      shortcut_token(s, l, c_in);
      break;
    case LayerType::conv1d:
    case LayerType::maxpool1d:
      s << "(k" << l.kernel << ",s" << l.effective_stride() << ",p" << l.padding << ")";
      break;
    case LayerType::lstm:
      s << "(l" << l.depth << ")";
      break;
    case LayerType::encoder:
      s << "(h" << l.heads << ")";
      break;
    case LayerType::embedding:
      s << "(v" << l.vocab << ")";
      break;
    case LayerType::conv:
      s << "(k" << l.kernel << ",s" << l.effective_stride() << ",p" << l.padding << ")";
      break;
    case LayerType::maxpool:
    case LayerType::avgpool:
      s << "(k" << l.kernel << ",s" << l.effective_stride() << ",p" << l.padding << ")";
      break;
    case LayerType::dropout:
      s << "(" << l.p << ")";
      break;
    default:
      break;
  }
  return s.str();
}

// ":in..." part of a key: the block input's size apart from its width.
std::string input_token(const LayerBlock& blk) {
  const auto& in = blk.in_structured;
  std::string t = ":in";
  switch (blk.in_layout) {
    case Layout::image:
      t += std::to_string(in[1]) + "x" + std::to_string(in[2]);
      break;
    case Layout::channels:
      t += "L" + std::to_string(in[1]);
      break;
    case Layout::sequence:
      t += "T" + std::to_string(in[0]);
      break;
    case Layout::tokens:
      t += "T" + std::to_string(in[0]) + "tok";
      break;
    case Layout::flat:
      t += "flat";
      break;
  }
  return blk.flattened_input ? t + "f" : t;
}

bool structured(Layout l) { return l != Layout::flat && l != Layout::tokens; }

}  // namespace

KindTraits kind_traits(BlockRole role, const std::string& key) {
  KindTraits t;
  // "role:tok+tok+...:in...": the parametric layer's token names the type.
  const size_t a = key.find(':'), b = key.find(':', a + 1);
  const std::string layers = a == std::string::npos ? "" : key.substr(a + 1, b - a - 1);
  size_t pos = 0;
  while (pos <= layers.size()) {
    const size_t end = std::min(layers.find('+', pos), layers.size());
    const std::string tok = layers.substr(pos, end - pos);
    const std::string name = tok.substr(0, tok.find('('));
    Layer probe;
    for (int k = 0; k <= static_cast<int>(LayerType::embedding); ++k)
      if (to_string(static_cast<LayerType>(k)) == name) probe.type = static_cast<LayerType>(k);
    if (to_string(probe.type) == name && probe.parametric()) {
      t.quadratic = quadratic_type(probe.type);
      t.tied = (probe.type == LayerType::residual || probe.type == LayerType::bottleneck) &&
               tok.find(",id)") != std::string::npos;
      break;
    }
    pos = end + 1;
  }
  t.features = role == BlockRole::hidden && !t.tied ? 2 : 1;
  return t;
}

std::vector<LayerBlock> split_blocks(const Architecture& arch) {
  arch.validate();
  const auto infos = arch.infer();
  std::vector<size_t> params;
  for (size_t i = 0; i < arch.layers.size(); ++i)
    if (arch.layers[i].parametric()) params.push_back(i);

  std::vector<LayerBlock> blocks;
  // The last shape with channel structure, and its layout.
  std::vector<int64_t> last_structured = arch.input;
  Layout last_layout = arch.input_layout();
  auto track = [&](size_t i) {
    if (structured(infos[i].out_layout)) {
      last_structured = infos[i].out_shape;
      last_layout = infos[i].out_layout;
    }
  };
  for (size_t b = 0; b < params.size(); ++b) {
    LayerBlock blk;
    blk.param = params[b];
    blk.first = b == 0 ? 0 : params[b];
    blk.last = b + 1 < params.size() ? params[b + 1] - 1 : arch.layers.size() - 1;
    blk.role = params.size() == 1       ? BlockRole::output
               : b == 0                 ? BlockRole::input
               : b + 1 == params.size() ? BlockRole::output
                                        : BlockRole::hidden;
    for (size_t i = blk.first; i <= blk.last; ++i) blk.layers.push_back(arch.layers[i]);
    blk.in_shape = infos[blk.first].in_shape;
    for (size_t i = blk.first; i < blk.param; ++i) track(i);
    const auto& pin = infos[blk.param].in_shape;
    const Layout play = infos[blk.param].in_layout;
    double structured_values = 1.0;
    for (int64_t d : last_structured) structured_values *= static_cast<double>(d);
    blk.flattened_input = false;
    if (structured(play) || play == Layout::tokens) {
      if (structured(play)) {
        last_structured = pin;
        last_layout = play;
      }
      blk.in_structured = pin;
      blk.in_layout = play;
    } else if (structured(last_layout) && structured_values == static_cast<double>(pin[0])) {
      blk.in_structured = last_structured;
      blk.in_layout = last_layout;
      blk.flattened_input = true;
    } else {
      blk.in_structured = pin;
      blk.in_layout = Layout::flat;
    }
    const Layer& pl = arch.layers[blk.param];
    blk.c_in = layout_width(blk.in_structured, blk.in_layout);
    blk.c_out = pl.out;
    blk.tied = (pl.type == LayerType::residual || pl.type == LayerType::bottleneck) &&
               pl.effective_stride() == 1 && blk.c_in == pl.out;
    blk.quadratic = quadratic_type(pl.type);
    blk.features = block_features(blk.role, blk.c_in, blk.c_out, blk.tied);
    blk.multiple.assign(blk.features.size(), 1);
    if (pl.type == LayerType::encoder && blk.role == BlockRole::hidden) blk.multiple[0] = pl.heads;

    std::ostringstream key;
    key << to_string(blk.role) << ":";
    // flatten costs nothing and only moves between neighbouring blocks, so it
    // is left out of keys; the next block's "f" marks a flattened input.
    bool first_token = true;
    for (size_t i = blk.first; i <= blk.last; ++i) {
      if (arch.layers[i].type == LayerType::flatten) continue;
      key << (first_token ? "" : "+") << layer_token(arch.layers[i], blk.c_in);
      first_token = false;
    }
    key << input_token(blk);
    if (blk.role == BlockRole::input) key << ":cin" << blk.c_in;    // data channels are fixed
    if (blk.role == BlockRole::output) key << ":out" << blk.c_out;  // class count is fixed
    key << ":b" << arch.batch_size;
    blk.key = key.str();
    // Layers after the previous block's flatten keep their structure info.
    for (size_t i = blk.param; i <= blk.last; ++i) track(i);
    blocks.push_back(std::move(blk));
  }
  return blocks;
}

}  // namespace thor
