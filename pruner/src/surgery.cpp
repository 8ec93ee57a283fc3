// Weight surgery: the one translation unit of thor::pruner that includes
// LibTorch (through thor/detail/torch_model.hpp).
//
// Every layer's module is copied parameter by parameter, by name: a layer
// type says which dimension of which named tensor is cut to which kept
// channels (a "cut"); every other tensor must have the same shape in both
// models and is copied whole. A forgotten cut is therefore a shape error,
// never a silently wrong model.
#include "thor/pruner/surgery.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "thor/detail/torch_model.hpp"
#include "thor/layer_kind.hpp"

namespace thor::pruner {

namespace {

using Index = std::vector<int64_t>;

Index all_of(int64_t n) {
  Index idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  return idx;
}

// A named parameter or buffer of a module (recursively named, "bn1.weight").
torch::Tensor tensor_of(const torch::nn::Module& m, const std::string& name) {
  // find() points into the dictionary: keep it alive while reading.
  const auto params = m.named_parameters(true);
  if (const auto* p = params.find(name)) return *p;
  const auto buffers = m.named_buffers(true);
  if (const auto* b = buffers.find(name)) return *b;
  throw std::logic_error("prune: module has no tensor '" + name + "'");
}

// Sum of |w| over everything but dimension 0: one figure per row.
std::vector<double> row_l1(const torch::Tensor& w) {
  const torch::Tensor n =
      w.detach().to(torch::kCPU).abs().reshape({w.size(0), -1}).sum(1).to(torch::kFloat64);
  return {n.data_ptr<double>(), n.data_ptr<double>() + n.numel()};
}

// The `count` entries of `score` with the largest values, ascending. Stable:
// equal scores keep the lower index, so choices are deterministic.
Index top(const std::vector<double>& score, int64_t count) {
  Index order = all_of(static_cast<int64_t>(score.size()));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  order.resize(static_cast<size_t>(std::clamp<int64_t>(count, 0, score.size())));
  std::sort(order.begin(), order.end());
  return order;
}

// Rows of the four LSTM gates (i, f, g, o, each `hidden` rows) of units `keep`.
Index gate_rows(const Index& keep, int64_t hidden) {
  Index rows;
  for (int64_t g = 0; g < 4; ++g)
    for (int64_t u : keep) rows.push_back(g * hidden + u);
  return rows;
}

// Per-unit L1 of an LSTM layer's gate rows (input and recurrent weights).
std::vector<double> lstm_unit_l1(const torch::nn::Module& m, int64_t layer, int64_t hidden) {
  const std::string l = std::to_string(layer);
  const auto ih = row_l1(tensor_of(m, "lstm.weight_ih_l" + l));
  const auto hh = row_l1(tensor_of(m, "lstm.weight_hh_l" + l));
  std::vector<double> s(static_cast<size_t>(hidden), 0.0);
  for (int64_t g = 0; g < 4; ++g)
    for (int64_t u = 0; u < hidden; ++u) s[u] += ih[g * hidden + u] + hh[g * hidden + u];
  return s;
}

// A ResNet block's output channels come from its last conv through a batch
// norm, plus the projection's when it has one: each path counts as the
// filter's L1 scaled by |gamma| (a zero gamma silences the channel).
std::vector<double> scaled_l1(const torch::nn::Module& m, const std::string& conv,
                              const std::string& bn) {
  auto n = row_l1(tensor_of(m, conv + ".weight"));
  const auto g = row_l1(tensor_of(m, bn + ".weight").unsqueeze(1));
  for (size_t c = 0; c < n.size(); ++c) n[c] *= g[c];
  return n;
}

std::vector<double> block_output_l1(const torch::nn::Module& m, const std::string& last) {
  auto s = scaled_l1(m, "conv" + last, "bn" + last);
  if (m.named_parameters(true).find("downsample.0.weight")) {
    const auto p = scaled_l1(m, "downsample.0", "downsample.1");
    for (size_t c = 0; c < s.size(); ++c) s[c] += p[c];
  }
  return s;
}

// How much each output channel (the `out` a group prunes) of a parametric
// layer matters: the L1 norm of the weights that produce it.
std::vector<double> output_l1(const Layer& l, const torch::nn::Module& m) {
  switch (l.type) {
    case LayerType::conv:
    case LayerType::conv1d:
    case LayerType::linear:
      return row_l1(tensor_of(m, "weight"));
    case LayerType::residual:
    case LayerType::bottleneck:
      return block_output_l1(m, l.type == LayerType::bottleneck ? "3" : "2");
    case LayerType::lstm:
      return lstm_unit_l1(m, l.depth - 1, l.out);
    case LayerType::embedding:
      return row_l1(tensor_of(m, "embedding.weight").t());
    case LayerType::encoder:
      return row_l1(tensor_of(m, "layer.linear1.weight"));  // its feed-forward units
    default:
      break;
  }
  throw std::logic_error("prune: layer type " + to_string(l.type) + " has no output channels");
}

// Which rows / columns of a named tensor survive (null: all of them).
struct Cut {
  const Index* rows = nullptr;
  const Index* cols = nullptr;
};
using Cuts = std::map<std::string, Cut>;

torch::Tensor index_tensor(const Index& idx, const torch::Device& device) {
  return torch::tensor(idx, torch::TensorOptions().dtype(torch::kInt64)).to(device);
}

// dst's every parameter and buffer from src's, cut where `cuts` says.
void copy_cut(const torch::nn::Module& src, torch::nn::Module& dst, const Cuts& cuts,
              const torch::Device& device) {
  auto copy = [&](const std::string& name, torch::Tensor& d) {
    if (!d.defined()) return;
    torch::Tensor s = tensor_of(src, name);
    if (auto it = cuts.find(name); it != cuts.end()) {
      if (it->second.rows) s = s.index_select(0, index_tensor(*it->second.rows, device));
      if (it->second.cols) s = s.index_select(1, index_tensor(*it->second.cols, device));
    }
    if (d.sizes() != s.sizes())
      throw std::logic_error("prune: shape mismatch while copying '" + name + "'");
    d.copy_(s);
  };
  for (auto& p : dst.named_parameters(true)) copy(p.key(), p.value());
  for (auto& b : dst.named_buffers(true)) copy(b.key(), b.value());
}

// Cuts of a batch norm (or layer norm) over channels `c`, under `prefix`.
void norm_cuts(Cuts& cuts, const std::string& prefix, const Index* c) {
  for (const char* n : {"weight", "bias", "running_mean", "running_var"})
    cuts[prefix + n] = {c, nullptr};
}

// A basic or bottleneck block: `out` its output channels, `in` its input's.
// Its inner widths are seen by no other layer, so each inner conv keeps its
// own strongest channels (by filter L1 × |gamma|), `inner.size()` of them.
void residual_cuts(Cuts& cuts, const torch::nn::Module& m, const Layer& l, const Index* in,
                   const Index* out, int64_t inner, Index& a, Index& b) {
  a = top(scaled_l1(m, "conv1", "bn1"), inner);
  cuts["conv1.weight"] = {&a, in};
  norm_cuts(cuts, "bn1.", &a);
  if (l.type == LayerType::bottleneck) {
    b = top(scaled_l1(m, "conv2", "bn2"), inner);
    cuts["conv2.weight"] = {&b, &a};
    norm_cuts(cuts, "bn2.", &b);
    cuts["conv3.weight"] = {out, &b};
    norm_cuts(cuts, "bn3.", out);
  } else {
    cuts["conv2.weight"] = {out, &a};
    norm_cuts(cuts, "bn2.", out);
  }
  cuts["downsample.0.weight"] = {out, in};
  norm_cuts(cuts, "downsample.1.", out);
}

// An LSTM's stacked layers: the top one's units are the group's (the next
// layer reads them), lower ones keep their own strongest units. `units` and
// `rows` hold the index lists the cuts point into.
void lstm_cuts(Cuts& cuts, const torch::nn::Module& m, const Layer& l, const Index& in,
               const Index& out, std::vector<Index>& units, std::vector<Index>& rows) {
  for (int64_t d = 0; d < l.depth; ++d)
    units.push_back(
        d + 1 == l.depth ? out : top(lstm_unit_l1(m, d, l.out), static_cast<int64_t>(out.size())));
  for (int64_t d = 0; d < l.depth; ++d) rows.push_back(gate_rows(units[d], l.out));
  for (int64_t d = 0; d < l.depth; ++d) {
    const std::string s = std::to_string(d);
    const Index* cols_ih = d == 0 ? &in : &units[d - 1];
    cuts["lstm.weight_ih_l" + s] = {&rows[d], cols_ih};
    cuts["lstm.weight_hh_l" + s] = {&rows[d], &units[d]};
    cuts["lstm.bias_ih_l" + s] = {&rows[d], nullptr};
    cuts["lstm.bias_hh_l" + s] = {&rows[d], nullptr};
  }
}

// The attention dimensions an encoder keeps when its model dimension goes
// from D to D' (a multiple of the heads): every head keeps D'/heads of its
// dimensions, q and k the same ones (they meet in a dot product), v and the
// output projection's inputs theirs.
struct AttentionKeep {
  Index qkv;             ///< rows of in_proj (q, k, v blocks)
  Index v;               ///< columns of out_proj
  double q_scale = 1.0;  ///< keeps q·k / sqrt(head dim) unchanged
};
AttentionKeep attention_keep(const torch::nn::Module& m, int64_t dim, int64_t heads,
                             int64_t kept_dim) {
  const auto w = row_l1(tensor_of(m, "layer.self_attn.in_proj_weight"));
  const auto o = row_l1(tensor_of(m, "layer.self_attn.out_proj.weight").t());
  const int64_t hd = dim / heads, kept_hd = kept_dim / heads;
  AttentionKeep a;
  Index qk;
  for (int64_t h = 0; h < heads; ++h) {
    std::vector<double> sqk(hd), sv(hd);
    for (int64_t r = 0; r < hd; ++r) {
      const int64_t j = h * hd + r;
      sqk[r] = w[j] + w[dim + j];
      sv[r] = w[2 * dim + j] + o[j];
    }
    for (int64_t r : top(sqk, kept_hd)) qk.push_back(h * hd + r);
    for (int64_t r : top(sv, kept_hd)) a.v.push_back(h * hd + r);
  }
  for (int64_t r : qk) a.qkv.push_back(r);
  for (int64_t r : qk) a.qkv.push_back(dim + r);
  for (int64_t r : a.v) a.qkv.push_back(2 * dim + r);
  a.q_scale = std::sqrt(static_cast<double>(kept_hd) / static_cast<double>(hd));
  return a;
}

void encoder_cuts(Cuts& cuts, const AttentionKeep& a, const Index* d, const Index* ff) {
  const std::string p = "layer.";
  cuts[p + "self_attn.in_proj_weight"] = {&a.qkv, d};
  cuts[p + "self_attn.in_proj_bias"] = {&a.qkv, nullptr};
  cuts[p + "self_attn.out_proj.weight"] = {d, &a.v};
  cuts[p + "self_attn.out_proj.bias"] = {d, nullptr};
  cuts[p + "linear1.weight"] = {ff, d};
  cuts[p + "linear1.bias"] = {ff, nullptr};
  cuts[p + "linear2.weight"] = {d, ff};
  cuts[p + "linear2.bias"] = {d, nullptr};
  norm_cuts(cuts, p + "norm1.", d);
  norm_cuts(cuts, p + "norm2.", d);
}

// The kept channels of every channels() entry but the classifier's, from
// the groups' kept channels (entries in no group keep all of theirs).
std::vector<Index> entry_keep(const ChannelGroups& groups, const KeepIndices& keep) {
  auto widths = groups.architecture().channels();
  widths.pop_back();
  std::vector<Index> out;
  for (int64_t w : widths) out.push_back(all_of(w));
  for (size_t g = 0; g < groups.size(); ++g)
    for (size_t m : groups.groups()[g].members) out[m] = keep[g];
  return out;
}

// Checks `keep` against the groups: one strictly ascending, in-range list
// per group whose size the group allows. Returns the sizes.
ChannelConfig kept_sizes(const ChannelGroups& groups, const KeepIndices& keep) {
  if (keep.size() != groups.size())
    throw InputError("prune: expected " + std::to_string(groups.size()) +
                     " kept-channel lists (one per group), got " + std::to_string(keep.size()));
  ChannelConfig sizes;
  for (size_t k = 0; k < keep.size(); ++k) {
    const int64_t n = groups.groups()[k].width;
    for (size_t j = 0; j < keep[k].size(); ++j)
      if (keep[k][j] < 0 || keep[k][j] >= n || (j > 0 && keep[k][j] <= keep[k][j - 1]))
        throw InputError("prune: kept channels of group " + std::to_string(k) +
                         " must be strictly ascending indices in [0, " + std::to_string(n) + ")");
    sizes.push_back(static_cast<int64_t>(keep[k].size()));
  }
  groups.check(sizes);
  return sizes;
}

}  // namespace

std::vector<std::vector<double>> filter_l1_norms(const Model& model) {
  torch::NoGradGuard no_grad;
  const auto& impl = model.impl();
  const ChannelGroups groups = ChannelGroups::of(impl.arch);
  std::vector<std::vector<double>> norms;
  for (const auto& grp : groups.groups()) {
    std::vector<double> sum(static_cast<size_t>(grp.width), 0.0);
    for (size_t layer : grp.layers) {
      auto n = output_l1(impl.arch.layers[layer], *impl.modules[layer]);
      // Members sit at different scales: each counts by its mean, unless alone.
      const double mean = std::accumulate(n.begin(), n.end(), 0.0) / n.size();
      const double w = grp.layers.size() == 1 || mean <= 0.0 ? 1.0 : 1.0 / mean;
      for (size_t c = 0; c < n.size(); ++c) sum[c] += w * n[c];
    }
    norms.push_back(std::move(sum));
  }
  return norms;
}

KeepIndices select_channels_l1(const Model& model, const ChannelConfig& channels) {
  ChannelGroups::of(model.architecture()).check(channels);
  const auto norms = filter_l1_norms(model);
  KeepIndices keep;
  for (size_t k = 0; k < norms.size(); ++k) keep.push_back(top(norms[k], channels[k]));
  return keep;
}

Model prune_model(const Model& model, const KeepIndices& keep) {
  torch::NoGradGuard no_grad;
  const auto& src = model.impl();
  const Architecture& arch = src.arch;
  const ChannelGroups groups = ChannelGroups::of(arch);
  const Architecture small = groups.apply(kept_sizes(groups, keep));
  // Fresh weights get overwritten entirely, so the seed does not matter.
  auto dst = build_model_impl(small, 0, src.device);
  const auto infos = arch.infer();
  const auto kept = entry_keep(groups, keep);

  // `in`: kept indices along the channel (or feature) dimension of the
  // tensor entering the current layer; starts as every input channel.
  Index in = all_of(arch.input_channels());
  size_t entry = 0;
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& l = arch.layers[i];
    const torch::nn::Module& sm = *src.modules[i];
    torch::nn::Module& dm = *dst->modules[i];
    const Index out = !l.parametric() ? in : entry < kept.size() ? kept[entry] : all_of(l.out);
    Cuts cuts;
    Index mid, mid2;
    std::vector<Index> lstm_units, lstm_rows;
    AttentionKeep attention;
    switch (l.type) {
      case LayerType::conv:
      case LayerType::conv1d:
      case LayerType::linear:
        cuts["weight"] = {&out, &in};
        cuts["bias"] = {&out, nullptr};
        break;
      case LayerType::batchnorm:
        norm_cuts(cuts, "", &in);
        break;
      case LayerType::residual:
      case LayerType::bottleneck:
        residual_cuts(cuts, sm, l, &in, &out,
                      l.type == LayerType::bottleneck ? small.layers[i].mid
                                                      : static_cast<int64_t>(out.size()),
                      mid, mid2);
        break;
      case LayerType::lstm:
        lstm_cuts(cuts, sm, l, in, out, lstm_units, lstm_rows);
        break;
      case LayerType::embedding:
        cuts["embedding.weight"] = {nullptr, &out};
        break;
      case LayerType::encoder:
        attention = attention_keep(sm, layout_width(infos[i].in_shape, infos[i].in_layout), l.heads,
                                   static_cast<int64_t>(in.size()));
        encoder_cuts(cuts, attention, &in, &out);
        break;
      default:
        break;  // no parameters, or channel-wise (pools, relu, dropout)
    }
    copy_cut(sm, dm, cuts, src.device);
    if (l.type == LayerType::encoder && attention.q_scale != 1.0) {
      const int64_t d = static_cast<int64_t>(in.size());
      tensor_of(dm, "layer.self_attn.in_proj_weight").narrow(0, 0, d).mul_(attention.q_scale);
      tensor_of(dm, "layer.self_attn.in_proj_bias").narrow(0, 0, d).mul_(attention.q_scale);
    }
    if (l.type == LayerType::flatten) {
      // [C, H, W] → C·H·W features, channel-major: channel c owns columns
      // [c·HW, (c+1)·HW).
      const auto& shape = infos[i].in_shape;
      int64_t hw = 1;
      for (size_t d = 1; d < shape.size(); ++d) hw *= shape[d];
      Index features;
      for (int64_t c : in)
        for (int64_t p = 0; p < hw; ++p) features.push_back(c * hw + p);
      in = std::move(features);
    } else if (l.sets_width()) {
      in = out;
    }
    if (l.parametric()) ++entry;
  }
  dst->net->train();
  return make_model(std::move(dst));
}

Model prune_model_l1(const Model& model, const ChannelConfig& channels) {
  return prune_model(model, select_channels_l1(model, channels));
}

}  // namespace thor::pruner
