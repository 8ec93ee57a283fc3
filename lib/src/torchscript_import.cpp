// Reading an Architecture from a TorchScript module: Python's torch.jit.script
// of a torch.nn / torchvision model, or Model::export_torchscript (a
// torch.jit.trace keeps weights but not strides, paddings or LSTM settings:
// such modules are refused). The submodules are taken in the order they were
// registered (which is the order torch.nn.Sequential and torchvision's ResNet
// call them) and mapped by class name, one table row per class; containers
// are walked into.
//
// Code between modules is not a module and is not seen, with two
// exceptions, both the usual classifier head:
//  - a Linear after an LSTM or a Transformer encoder layer gets a reduction
//    of the [T, H] sequence to [H] inserted before it: `last` (x[:, -1]) or
//    `global_avgpool` (x.mean(1)), whichever the forward code of the user's
//    module around the block holds (aten::select(x, 1, -1) or
//    aten::mean(x, [1])); when it holds neither or both, `last` after an
//    LSTM and `global_avgpool` after an encoder;
//  - a flatten after a global average pool (torch.flatten in torchvision's
//    ResNet, or an nn.Flatten module, which is dropped) is a no-op on thor's
//    flat [C] output.
// Anything else that reshapes in code (a permute, a view) goes unseen: the
// architecture is then wrong or refused by shape inference.
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/script.h>

#include <map>
#include <optional>
#include <set>

#include "thor/detail/torch_model.hpp"

namespace thor {

namespace {

using torch::jit::Module;

// torch.jit.trace keeps the weights but not the hyperparameters of torch.nn modules.
const char* const kTraceHint = " (torch.jit.trace drops it: save the model with torch.jit.script)";

std::string class_of(const Module& m) {
  const auto& name = m.type()->name();
  return name ? name->name() : "";
}

// An attribute or a class constant (torch.nn keeps hyperparameters in
// __constants__), or nothing.
std::optional<c10::IValue> lookup(const Module& m, const std::string& name) {
  if (m.hasattr(name)) return m.attr(name);
  if (auto slot = m.type()->findConstantSlot(name)) return m.type()->getConstant(*slot);
  return std::nullopt;
}

std::optional<Module> child(const Module& m, const std::string& name) {
  if (!m.hasattr(name)) return std::nullopt;
  const auto v = m.attr(name);
  if (!v.isModule()) return std::nullopt;  // e.g. torchvision's `downsample = None`
  return v.toModule();
}

// Whether the forward code holds x.mean(1) / x[:, -1] (in any method, at any depth).
void find_reductions(const torch::jit::Block* block, std::set<LayerType>& found) {
  for (const torch::jit::Node* n : block->nodes()) {
    for (const auto* b : n->blocks()) find_reductions(b, found);
    if (n->kind() == c10::aten::select && n->inputs().size() == 3 &&
        torch::jit::constant_as<int64_t>(n->input(1)) == int64_t{1} &&
        torch::jit::constant_as<int64_t>(n->input(2)) == int64_t{-1}) {
      found.insert(LayerType::last);
    } else if (n->kind() == c10::aten::mean && n->inputs().size() >= 2) {
      const auto* dims = n->input(1)->node();
      const auto folded = torch::jit::toIValue(n->input(1));
      if ((dims->kind() == c10::prim::ListConstruct && dims->inputs().size() == 1 &&
           torch::jit::constant_as<int64_t>(dims->input(0)) == int64_t{1}) ||
          (folded && folded->isIntList() && folded->toIntVector() == std::vector<int64_t>{1}))
        found.insert(LayerType::global_avgpool);
    }
  }
}

// One submodule being mapped.
struct Child {
  const Module& mod;
  std::string name;  // path from the root, "layer1.0.conv1"
  std::string cls;
};

class Importer;
using Mapper = void (*)(Importer&, const Child&);
const std::map<std::string, Mapper>& mappers();
Mapper block_by_structure(const Module& m);

// Walks a module tree and collects its layers.
class Importer {
 public:
  Importer(std::string path, Architecture& arch) : path_(std::move(path)), arch_(arch) {}

  [[noreturn]] void refuse(const Child& c, const std::string& why) const {
    throw InputError(path_ + ": module '" + c.name + "' of type '" + c.cls + "' " + why);
  }

  // An int (or the first of an int list or tuple) hyperparameter.
  int64_t get_int(const Child& c, const Module& m, const std::string& name,
                  std::optional<int64_t> fallback = std::nullopt) const {
    const auto v = lookup(m, name);
    if (!v || v->isNone()) {
      if (fallback) return *fallback;
      refuse(c, "has no attribute '" + name + "'" + kTraceHint);
    }
    if (v->isInt()) return v->toInt();
    std::vector<int64_t> ints;
    if (v->isIntList()) ints = v->toIntVector();
    if (v->isTuple())
      for (const auto& e : v->toTuple()->elements())
        if (e.isInt()) ints.push_back(e.toInt());
    if (ints.empty()) refuse(c, "has a non-integer '" + name + "' (" + v->tagKind() + ")");
    for (int64_t x : ints)
      if (x != ints[0]) refuse(c, "has a non-square '" + name + "'; thor's layers are square");
    return ints[0];
  }

  bool get_bool(const Child& c, const Module& m, const std::string& name) const {
    const auto v = lookup(m, name);
    if (!v || !v->isBool()) refuse(c, "has no boolean '" + name + "'" + kTraceHint);
    return v->toBool();
  }

  torch::Tensor weight(const Child& c, const Module& m, int64_t dims) const {
    const auto v = lookup(m, "weight");
    if (!v || !v->isTensor() || v->toTensor().dim() != dims)
      refuse(c, "has no " + std::to_string(dims) + "-D weight");
    return v->toTensor();
  }

  // A layer; a Linear after a sequence block first gets the block's reduction.
  void add(const Layer& l) {
    if (l.type == LayerType::linear && pending_) arch_.layers.push_back(Layer::simple(*pending_));
    switch (l.type) {
      case LayerType::lstm:
      case LayerType::encoder:
        pending_ = reduction_for(l.type);
        break;
      case LayerType::linear:
      case LayerType::flatten:
      case LayerType::global_avgpool:
      case LayerType::last:
        pending_.reset();
        break;
      default:
        break;
    }
    arch_.layers.push_back(l);
  }

  const std::vector<Layer>& layers() const { return arch_.layers; }

  void walk(const Module& mod, const std::string& prefix) {
    // The user's own modules (not torch.nn's containers) hold the forward
    // code that reduces a sequence.
    const auto qualified = mod.type()->name() ? mod.type()->name()->qualifiedName() : "";
    const bool user_code = owners_.empty() || qualified.rfind("__torch__.torch.nn.", 0) != 0;
    if (user_code) owners_.push_back(mod);
    for (const auto& ch : mod.named_children()) {
      const Child c{ch.value, prefix.empty() ? ch.name : prefix + "." + ch.name,
                    class_of(ch.value)};
      const auto& table = mappers();
      const auto it = table.find(c.cls);
      if (const Mapper map = it != table.end() ? it->second : block_by_structure(ch.value)) {
        map(*this, c);
      } else if (c.cls == "Sequential" || c.cls == "ModuleList" || c.cls == "TransformerEncoder" ||
                 ch.value.named_children().size() > 0) {
        walk(ch.value, c.name);
      } else {
        std::string known;
        for (const auto& [cls, m] : table) known += (known.empty() ? "" : ", ") + cls;
        refuse(c, "cannot be mapped to a thor layer (known: " + known + ")");
      }
    }
    if (user_code) owners_.pop_back();
  }

 private:
  // What reduces an lstm's or encoder's output: the forward code's own
  // reduction when it holds exactly one, else the usual one for the block.
  LayerType reduction_for(LayerType block) const {
    std::set<LayerType> found;
    for (const auto& method : owners_.back().get_methods())
      find_reductions(method.graph()->block(), found);
    if (found.size() == 1) return *found.begin();
    return block == LayerType::lstm ? LayerType::last : LayerType::global_avgpool;
  }

  std::string path_;
  Architecture& arch_;
  std::vector<Module> owners_;
  std::optional<LayerType> pending_;
};

// ---- one mapper per class -------------------------------------------------

// Conv2d and Conv1d share dilation and groups: thor's are 1 (and its
// export_torchscript writes neither).
void require_plain_conv(Importer& im, const Child& c) {
  if (im.get_int(c, c.mod, "dilation", 1) != 1) im.refuse(c, "has a dilation; thor's has none");
  if (im.get_int(c, c.mod, "groups", 1) != 1)
    im.refuse(c, "is a grouped convolution; thor's are not");
}

Layer conv2d_layer(Importer& im, const Child& c) {
  const auto w = im.weight(c, c.mod, 4);
  if (w.size(2) != w.size(3)) im.refuse(c, "has a non-square kernel; thor's are square");
  require_plain_conv(im, c);
  const int64_t stride = im.get_int(c, c.mod, "stride");
  return Layer::conv(w.size(0), w.size(2), stride, im.get_int(c, c.mod, "padding"));
}

void map_conv2d(Importer& im, const Child& c) { im.add(conv2d_layer(im, c)); }

void map_conv1d(Importer& im, const Child& c) {
  const auto w = im.weight(c, c.mod, 3);
  require_plain_conv(im, c);
  const int64_t stride = im.get_int(c, c.mod, "stride");
  im.add(Layer::conv1d(w.size(0), w.size(2), stride, im.get_int(c, c.mod, "padding")));
}

void map_linear(Importer& im, const Child& c) {
  im.add(Layer::linear(im.weight(c, c.mod, 2).size(0)));
}

void map_pool(Importer& im, const Child& c) {
  const int64_t k = im.get_int(c, c.mod, "kernel_size");
  const LayerType t = c.cls == "MaxPool2d"   ? LayerType::maxpool
                      : c.cls == "AvgPool2d" ? LayerType::avgpool
                                             : LayerType::maxpool1d;
  Layer l = Layer::pool(t, k, im.get_int(c, c.mod, "stride"));
  l.padding = im.get_int(c, c.mod, "padding");
  if (t != LayerType::avgpool && im.get_int(c, c.mod, "dilation", 1) != 1)
    im.refuse(c, "has a dilation; thor's pools have none");
  if (const auto ceil = lookup(c.mod, "ceil_mode"); ceil && ceil->isBool() && ceil->toBool())
    im.refuse(c, "has ceil_mode=True; thor's pools round down");
  im.add(l);
}

void map_global_pool(Importer& im, const Child& c) {
  if (im.get_int(c, c.mod, "output_size") != 1)
    im.refuse(c, "pools to more than one value per channel; thor's global_avgpool pools to 1");
  im.add(Layer::simple(LayerType::global_avgpool));
}

void map_dropout(Importer& im, const Child& c) {
  const auto p = lookup(c.mod, "p");
  im.add(Layer::dropout(p && p->isDouble() ? p->toDouble() : 0.5));
}

void map_simple(Importer& im, const Child& c) {
  // LastStep and GlobalAvgPool (over time) are export_torchscript's own reductions.
  static const std::map<std::string, LayerType> types = {
      {"BatchNorm1d", LayerType::batchnorm},
      {"BatchNorm2d", LayerType::batchnorm},
      {"ReLU", LayerType::relu},
      {"Flatten", LayerType::flatten},
      {"LastStep", LayerType::last},
      {"GlobalAvgPool", LayerType::global_avgpool}};
  // torchvision's flatten after avgpool is code; a Flatten module there is a no-op too.
  const auto& ls = im.layers();
  if (c.cls == "Flatten" && !ls.empty() && ls.back().type == LayerType::global_avgpool) return;
  im.add(Layer::simple(types.at(c.cls)));
}

void map_identity(Importer&, const Child&) {}

void map_embedding(Importer& im, const Child& c) {
  const auto w = im.weight(c, c.mod, 2);
  im.add(Layer::embedding(w.size(0), w.size(1)));
}

// thor's lstm: unidirectional, with both biases, on batch-first [N, T, F].
void map_lstm(Importer& im, const Child& c) {
  if (!im.get_bool(c, c.mod, "batch_first"))
    im.refuse(c,
              "has batch_first=False; thor reads [N, T, F] batches: script it with "
              "batch_first=True");
  if (im.get_bool(c, c.mod, "bidirectional")) im.refuse(c, "is bidirectional; thor's lstm is not");
  if (!im.get_bool(c, c.mod, "bias")) im.refuse(c, "has bias=False; thor's lstm has biases");
  if (im.get_int(c, c.mod, "proj_size", 0) != 0)
    im.refuse(c, "has a projection (proj_size); thor's lstm has none");
  im.add(Layer::lstm(im.get_int(c, c.mod, "hidden_size"), im.get_int(c, c.mod, "num_layers")));
}

// thor's encoder: post-norm (norm_first=False), ReLU, batch-first.
void map_encoder_layer(Importer& im, const Child& c) {
  if (im.get_bool(c, c.mod, "norm_first"))
    im.refuse(c, "has norm_first=True; thor's encoder is post-norm");
  // torch.nn stores 1 for relu, 2 for gelu and 0 for any other activation.
  if (im.get_int(c, c.mod, "activation_relu_or_gelu", 0) != 1)
    im.refuse(c, "has an activation other than relu; thor's encoder uses relu");
  const auto attn = child(c.mod, "self_attn");
  const auto ff = child(c.mod, "linear1");
  if (!attn || !ff) im.refuse(c, "has no self_attn or linear1");
  if (!im.get_bool(c, *attn, "batch_first"))
    im.refuse(c,
              "has batch_first=False; thor reads [N, T, D] batches: script it with "
              "batch_first=True");
  im.add(Layer::encoder(im.get_int(c, *attn, "num_heads"), im.weight(c, *ff, 2).size(0)));
}

// A child convolution of a ResNet block, mapped like a Conv2d.
Layer block_conv(Importer& im, const Child& c, const std::string& name) {
  const auto m = child(c.mod, name);
  if (!m || class_of(*m) != "Conv2d") im.refuse(c, "has no Conv2d '" + name + "'");
  return conv2d_layer(im, Child{*m, c.name + "." + name, "Conv2d"});
}

// A block's shortcut must be what thor's is: a projection (downsample)
// exactly when the stride or the channel count changes.
void check_shortcut(Importer& im, const Child& c, int64_t in, const Layer& block) {
  const bool projects = child(c.mod, "downsample").has_value();
  if (projects == (block.effective_stride() == 1 && in == block.out))
    im.refuse(c, std::string(projects ? "projects" : "does not project") +
                     " its shortcut where thor's block would not");
}

// torchvision's BasicBlock: conv3x3(s)-BN-ReLU-conv3x3-BN + shortcut.
void map_basic_block(Importer& im, const Child& c) {
  const Layer a = block_conv(im, c, "conv1"), b = block_conv(im, c, "conv2");
  if (a.kernel != 3 || b.kernel != 3 || a.padding != 1 || b.padding != 1 ||
      b.effective_stride() != 1 || b.out != a.out)
    im.refuse(c, "is not two 3x3 convolutions (padding 1, the second of stride 1)");
  const Layer l = Layer::residual(a.out, a.effective_stride());
  check_shortcut(im, c, im.weight(c, *child(c.mod, "conv1"), 4).size(1), l);
  im.add(l);
}

// torchvision's Bottleneck (v1.5): conv1x1-BN-ReLU-conv3x3(s)-BN-ReLU-conv1x1-BN + shortcut.
void map_bottleneck(Importer& im, const Child& c) {
  const Layer a = block_conv(im, c, "conv1"), b = block_conv(im, c, "conv2"),
              d = block_conv(im, c, "conv3");
  if (a.kernel != 1 || b.kernel != 3 || d.kernel != 1 || b.padding != 1 ||
      a.effective_stride() != 1 || d.effective_stride() != 1 || b.out != a.out)
    im.refuse(c, "is not conv1x1, conv3x3 (padding 1, the block's stride), conv1x1");
  const Layer l = Layer::bottleneck(a.out, d.out, b.effective_stride());
  check_shortcut(im, c, im.weight(c, *child(c.mod, "conv1"), 4).size(1), l);
  im.add(l);
}

// A ResNet block of another class (a copy of torchvision's) recognised by
// its children: conv1, bn1, conv2, bn2 (+ conv3, bn3), optional relu and
// downsample.
Mapper block_by_structure(const Module& m) {
  std::set<std::string> names;
  for (const auto& ch : m.named_children()) {
    const std::string cls = class_of(ch.value);
    if (ch.name == "downsample") continue;
    if ((ch.name == "relu" && cls != "ReLU") ||
        (ch.name.rfind("bn", 0) == 0 && cls != "BatchNorm2d"))
      return nullptr;
    if (ch.name != "relu") names.insert(ch.name);
  }
  if (names == std::set<std::string>{"bn1", "bn2", "conv1", "conv2"}) return map_basic_block;
  if (names == std::set<std::string>{"bn1", "bn2", "bn3", "conv1", "conv2", "conv3"})
    return map_bottleneck;
  return nullptr;
}

const std::map<std::string, Mapper>& mappers() {
  static const std::map<std::string, Mapper> table = {
      {"Conv2d", map_conv2d},
      {"Conv1d", map_conv1d},
      {"Linear", map_linear},
      {"BatchNorm1d", map_simple},
      {"BatchNorm2d", map_simple},
      {"ReLU", map_simple},
      {"Flatten", map_simple},
      {"LastStep", map_simple},
      {"GlobalAvgPool", map_simple},
      {"MaxPool2d", map_pool},
      {"AvgPool2d", map_pool},
      {"MaxPool1d", map_pool},
      {"AdaptiveAvgPool2d", map_global_pool},
      {"AdaptiveAvgPool1d", map_global_pool},
      {"Dropout", map_dropout},
      {"Identity", map_identity},
      {"Embedding", map_embedding},
      {"LSTM", map_lstm},
      {"TransformerEncoderLayer", map_encoder_layer},
      {"BasicBlock", map_basic_block},
      {"Bottleneck", map_bottleneck}};
  return table;
}

}  // namespace

Architecture architecture_from_torchscript(const std::string& path,
                                           const std::vector<int64_t>& input_shape,
                                           int64_t batch_size, Architecture::InputLayout layout) {
  Architecture a;
  a.input = input_shape;
  a.batch_size = batch_size;
  a.layout = layout;
  if (input_shape.size() == 2 && layout == Architecture::InputLayout::automatic)
    throw InputError(path +
                     ": a 2-D input shape needs a layout: channels ([C, L], for Conv1d) "
                     "or sequence ([T, F], time first, for LSTM and Transformer layers)");
  const torch::jit::Module m = load_torchscript_module(path);
  Importer(path, a).walk(m, "");
  try {
    a.validate();
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());
  }
  return a;
}

}  // namespace thor
