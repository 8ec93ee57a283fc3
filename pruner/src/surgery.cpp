// Weight surgery: the one translation unit of thor::pruner that includes
// LibTorch (through thor/detail/torch_model.hpp).
#include "thor/pruner/surgery.hpp"

#include <algorithm>
#include <numeric>

#include "thor/detail/torch_model.hpp"

namespace thor::pruner {

namespace {

std::vector<size_t> parametric_indices(const Architecture& arch) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < arch.layers.size(); ++i)
    if (arch.layers[i].parametric()) idx.push_back(i);
  return idx;
}

torch::Tensor weight_of(const Model::Impl& impl, size_t layer) {
  const auto& m = impl.modules[layer];
  if (auto c = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(m)) return c->weight;
  if (auto l = std::dynamic_pointer_cast<torch::nn::LinearImpl>(m)) return l->weight;
  throw std::logic_error("prune: layer " + std::to_string(layer) + " is not conv or linear");
}

torch::Tensor index_tensor(const std::vector<int64_t>& idx, const torch::Device& device) {
  return torch::tensor(idx, torch::TensorOptions().dtype(torch::kInt64)).to(device);
}

// dst <- src (shapes must agree); both are parameters or buffers of modules.
void assign(torch::Tensor& dst, const torch::Tensor& src) {
  if (dst.sizes() != src.sizes())
    throw std::logic_error("prune: shape mismatch while copying weights");
  dst.copy_(src);
}

}  // namespace

std::vector<std::vector<double>> filter_l1_norms(const Model& model) {
  torch::NoGradGuard no_grad;
  const auto& impl = model.impl();
  const auto params = parametric_indices(impl.arch);
  std::vector<std::vector<double>> norms;
  for (size_t k = 0; k + 1 < params.size(); ++k) {
    const torch::Tensor w = weight_of(impl, params[k]).detach().to(torch::kCPU);
    const torch::Tensor n =
        w.abs().reshape({w.size(0), -1}).sum(1).to(torch::kFloat64).contiguous();
    norms.emplace_back(n.data_ptr<double>(), n.data_ptr<double>() + n.numel());
  }
  return norms;
}

KeepIndices select_channels_l1(const Model& model, const ChannelConfig& channels) {
  const auto norms = filter_l1_norms(model);
  if (channels.size() != norms.size())
    throw InputError("prune: expected " + std::to_string(norms.size()) +
                     " channel counts (one per prunable layer), got " +
                     std::to_string(channels.size()));
  KeepIndices keep;
  for (size_t k = 0; k < norms.size(); ++k) {
    const auto& n = norms[k];
    const int64_t want = channels[k];
    if (want < 1 || want > static_cast<int64_t>(n.size()))
      throw InputError("prune: layer " + std::to_string(k) + " keeps " + std::to_string(want) +
                       " channels; expected 1.." + std::to_string(n.size()));
    std::vector<int64_t> order(n.size());
    std::iota(order.begin(), order.end(), 0);
    // Stable so that equal norms keep the lower index: deterministic choices.
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return n[a] > n[b]; });
    order.resize(static_cast<size_t>(want));
    std::sort(order.begin(), order.end());
    keep.push_back(std::move(order));
  }
  return keep;
}

namespace {

// The pruned layers' sizes; checks that `keep` holds one strictly ascending,
// in-range, non-empty index list per prunable layer.
ChannelConfig kept_sizes(const Architecture& arch, const std::vector<size_t>& params,
                         const KeepIndices& keep) {
  if (params.empty() || keep.size() != params.size() - 1)
    throw InputError("prune: expected " + std::to_string(params.empty() ? 0 : params.size() - 1) +
                     " kept-channel lists, got " + std::to_string(keep.size()));
  ChannelConfig sizes;
  for (size_t k = 0; k < keep.size(); ++k) {
    const int64_t n = arch.layers[params[k]].out;
    if (keep[k].empty())
      throw InputError("prune: layer " + std::to_string(k) + " keeps no channel");
    for (size_t j = 0; j < keep[k].size(); ++j)
      if (keep[k][j] < 0 || keep[k][j] >= n || (j > 0 && keep[k][j] <= keep[k][j - 1]))
        throw InputError("prune: kept channels of layer " + std::to_string(k) +
                         " must be strictly ascending indices in [0, " + std::to_string(n) + ")");
    sizes.push_back(static_cast<int64_t>(keep[k].size()));
  }
  return sizes;
}

}  // namespace

Model prune_model(const Model& model, const KeepIndices& keep) {
  torch::NoGradGuard no_grad;
  const auto& src = model.impl();
  const Architecture& arch = src.arch;
  const auto params = parametric_indices(arch);
  const ChannelConfig sizes = kept_sizes(arch, params, keep);
  const Architecture small = arch.with_channels(sizes);
  // Fresh weights get overwritten entirely, so the seed does not matter.
  auto dst = build_model_impl(small, 0, src.device);
  const auto infos = arch.infer();

  // `in_keep`: kept indices along the channel (or feature) dimension of the
  // tensor entering the current layer; starts as every input channel.
  std::vector<int64_t> in_keep(static_cast<size_t>(arch.input.at(0)));
  std::iota(in_keep.begin(), in_keep.end(), 0);
  size_t param_k = 0;
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& layer = arch.layers[i];
    const auto& sm = src.modules[i];
    const auto& dm = dst->modules[i];
    const torch::Tensor in_idx = index_tensor(in_keep, src.device);
    switch (layer.type) {
      case LayerType::conv:
      case LayerType::linear: {
        const bool last = param_k + 1 == params.size();
        std::vector<int64_t> out_keep;
        if (last) {
          out_keep.resize(static_cast<size_t>(layer.out));
          std::iota(out_keep.begin(), out_keep.end(), 0);
        } else {
          out_keep = keep[param_k];
        }
        const torch::Tensor out_idx = index_tensor(out_keep, src.device);
        torch::Tensor sw, sb, dw, db;
        if (layer.type == LayerType::conv) {
          auto s = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(sm);
          auto d = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(dm);
          sw = s->weight, sb = s->bias, dw = d->weight, db = d->bias;
        } else {
          auto s = std::dynamic_pointer_cast<torch::nn::LinearImpl>(sm);
          auto d = std::dynamic_pointer_cast<torch::nn::LinearImpl>(dm);
          sw = s->weight, sb = s->bias, dw = d->weight, db = d->bias;
        }
        assign(dw, sw.index_select(0, out_idx).index_select(1, in_idx));
        if (sb.defined() && db.defined()) assign(db, sb.index_select(0, out_idx));
        in_keep = std::move(out_keep);
        ++param_k;
        break;
      }
      case LayerType::batchnorm: {
        // BatchNorm1d and 2d share BatchNormImplBase's fields; cast to each.
        auto copy_bn = [&](auto s, auto d) {
          if (s->weight.defined()) assign(d->weight, s->weight.index_select(0, in_idx));
          if (s->bias.defined()) assign(d->bias, s->bias.index_select(0, in_idx));
          if (s->running_mean.defined())
            assign(d->running_mean, s->running_mean.index_select(0, in_idx));
          if (s->running_var.defined())
            assign(d->running_var, s->running_var.index_select(0, in_idx));
          if (s->num_batches_tracked.defined())
            assign(d->num_batches_tracked, s->num_batches_tracked);
        };
        if (auto s2 = std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(sm))
          copy_bn(s2, std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(dm));
        else if (auto s1 = std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(sm))
          copy_bn(s1, std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(dm));
        else
          throw std::logic_error("prune: batchnorm layer " + std::to_string(i) +
                                 " has an unexpected module");
        break;
      }
      case LayerType::flatten: {
        // [C, H, W] → C·H·W features, channel-major: channel c owns columns
        // [c·HW, (c+1)·HW).
        const auto& shape = infos[i].in_shape;
        int64_t hw = 1;
        for (size_t d = 1; d < shape.size(); ++d) hw *= shape[d];
        std::vector<int64_t> features;
        features.reserve(in_keep.size() * static_cast<size_t>(hw));
        for (int64_t c : in_keep)
          for (int64_t p = 0; p < hw; ++p) features.push_back(c * hw + p);
        in_keep = std::move(features);
        break;
      }
      case LayerType::relu:
      case LayerType::maxpool:
      case LayerType::avgpool:
      case LayerType::dropout:
        break;  // channel-wise: the kept set passes through
    }
  }
  dst->net->train();
  return make_model(std::move(dst));
}

Model prune_model_l1(const Model& model, const ChannelConfig& channels) {
  return prune_model(model, select_channels_l1(model, channels));
}

}  // namespace thor::pruner
