#include "thor/layer_kind.hpp"

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

std::vector<double> block_features(BlockRole role, int64_t c_in, int64_t c_out) {
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

namespace {

std::string layer_token(const Layer& l) {
  std::ostringstream s;
  s << to_string(l.type);
  switch (l.type) {
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

}  // namespace

std::vector<LayerBlock> split_blocks(const Architecture& arch) {
  arch.validate();
  const auto infos = arch.infer();
  std::vector<size_t> params;
  for (size_t i = 0; i < arch.layers.size(); ++i)
    if (arch.layers[i].parametric()) params.push_back(i);

  std::vector<LayerBlock> blocks;
  std::vector<int64_t> last_structured = arch.input;  // last shape with channel structure
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
    // Track the last [C, H, W] shape that reaches this block's parametric layer.
    for (size_t i = blk.first; i < blk.param; ++i)
      if (infos[i].out_shape.size() == 3) last_structured = infos[i].out_shape;
    const auto& pin = infos[blk.param].in_shape;
    if (pin.size() == 3) {
      last_structured = pin;
      blk.in_structured = pin;
      blk.flattened_input = false;
    } else if (last_structured.size() == 3 &&
               last_structured[0] * last_structured[1] * last_structured[2] == pin[0]) {
      blk.in_structured = last_structured;
      blk.flattened_input = true;
    } else {
      blk.in_structured = pin;
      blk.flattened_input = false;
    }
    blk.c_in = blk.in_structured[0];
    blk.c_out = arch.layers[blk.param].out;
    blk.features = block_features(blk.role, blk.c_in, blk.c_out);

    std::ostringstream key;
    key << to_string(blk.role) << ":";
    // flatten costs nothing and only moves between neighbouring blocks, so it
    // is left out of keys; the next block's "f" marks a flattened input.
    bool first_token = true;
    for (size_t i = blk.first; i <= blk.last; ++i) {
      if (arch.layers[i].type == LayerType::flatten) continue;
      key << (first_token ? "" : "+") << layer_token(arch.layers[i]);
      first_token = false;
    }
    key << ":in";
    if (blk.in_structured.size() == 3)
      key << blk.in_structured[1] << "x" << blk.in_structured[2];
    else
      key << "flat";
    if (blk.flattened_input) key << "f";
    if (blk.role == BlockRole::input) key << ":cin" << blk.c_in;    // data channels are fixed
    if (blk.role == BlockRole::output) key << ":out" << blk.c_out;  // class count is fixed
    key << ":b" << arch.batch_size;
    blk.key = key.str();
    // Layers after the previous block's flatten keep their structure info.
    for (size_t i = blk.param; i <= blk.last; ++i)
      if (infos[i].out_shape.size() == 3) last_structured = infos[i].out_shape;
    blocks.push_back(std::move(blk));
  }
  return blocks;
}

}  // namespace thor
