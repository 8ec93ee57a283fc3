#include "thor/pruner/groups.hpp"

#include <numeric>
#include <sstream>

#include "thor/error.hpp"
#include "thor/layer_kind.hpp"

namespace thor::pruner {

namespace {

bool residual_type(LayerType t) { return t == LayerType::residual || t == LayerType::bottleneck; }

// What keeps a bottleneck's out/mid ratio exact when out changes: out must
// be a multiple of out / gcd(out, mid).
int64_t bottleneck_multiple(const Layer& l) {
  if (l.type != LayerType::bottleneck || l.mid <= 0) return 1;
  return l.out / std::gcd(l.out, l.mid);
}

}  // namespace

std::string ChannelGroup::describe(const Architecture& arch) const {
  std::ostringstream s;
  for (size_t k = 0; k < layers.size(); ++k) {
    const bool same_type = k > 0 && arch.layers[layers[k]].type == arch.layers[layers[k - 1]].type;
    s << (k == 0 ? "" : same_type ? "," : " + ");
    if (!same_type) s << to_string(arch.layers[layers[k]].type) << "@";
    s << layers[k];
  }
  return s.str();
}

ChannelGroups ChannelGroups::of(const Architecture& arch) {
  arch.validate();
  ChannelGroups g;
  g.arch_ = arch;
  const auto infos = arch.infer();
  size_t last = 0;  // the classifier: the last parametric layer
  for (size_t i = 0; i < arch.layers.size(); ++i)
    if (arch.layers[i].parametric()) last = i;
  int64_t from = -1;  // group setting the current width (-1: the data's, fixed)
  size_t entry = 0;   // index into channels()
  for (size_t i = 0; i < last; ++i) {
    const Layer& l = arch.layers[i];
    if (!l.parametric()) continue;
    const bool tied = residual_type(l.type) && l.effective_stride() == 1 &&
                      layout_width(infos[i].in_shape, infos[i].in_layout) == l.out;
    if (l.type == LayerType::encoder && from >= 0)
      g.groups_[from].multiple = std::lcm(g.groups_[from].multiple, l.heads);
    if (tied) {
      // An identity shortcut adds its input to its output: same channels.
      if (from >= 0) {
        auto& grp = g.groups_[static_cast<size_t>(from)];
        grp.members.push_back(entry);
        grp.layers.push_back(i);
        grp.multiple = std::lcm(grp.multiple, bottleneck_multiple(l));
      }
    } else {
      ChannelGroup grp;
      grp.members = {entry};
      grp.layers = {i};
      grp.width = l.out;
      grp.multiple = bottleneck_multiple(l);
      g.groups_.push_back(std::move(grp));
      if (l.sets_width()) from = static_cast<int64_t>(g.groups_.size()) - 1;
    }
    ++entry;
  }
  if (g.groups_.empty())
    throw InputError(
        "pruning: no width of this network can change (its hidden layers all follow the data's "
        "width through identity shortcuts); add a stem layer or a projection block");
  return g;
}

ChannelConfig ChannelGroups::baseline() const {
  ChannelConfig c;
  for (const auto& grp : groups_) c.push_back(grp.width);
  return c;
}

std::vector<int64_t> ChannelGroups::multiples() const {
  std::vector<int64_t> m;
  for (const auto& grp : groups_) m.push_back(grp.multiple);
  return m;
}

void ChannelGroups::check(const ChannelConfig& counts) const {
  if (counts.size() != groups_.size())
    throw InputError("pruning: expected " + std::to_string(groups_.size()) +
                     " channel counts (one per group), got " + std::to_string(counts.size()));
  for (size_t k = 0; k < counts.size(); ++k) {
    const ChannelGroup& grp = groups_[k];
    if (counts[k] < grp.multiple || counts[k] > grp.width || counts[k] % grp.multiple != 0)
      throw InputError("pruning: group " + std::to_string(k) + " (" + grp.describe(arch_) +
                       ") keeps " + std::to_string(counts[k]) + " channels; expected " +
                       (grp.multiple > 1 ? "a multiple of " + std::to_string(grp.multiple) + " in "
                                         : std::string("")) +
                       "[" + std::to_string(grp.multiple) + ", " + std::to_string(grp.width) + "]");
  }
}

std::vector<int64_t> ChannelGroups::widths(const ChannelConfig& counts) const {
  check(counts);
  std::vector<int64_t> w = arch_.channels();
  w.pop_back();  // the classifier's outputs are the classes
  for (size_t k = 0; k < groups_.size(); ++k)
    for (size_t m : groups_[k].members) w[m] = counts[k];
  return w;
}

Architecture ChannelGroups::apply(const ChannelConfig& counts) const {
  Architecture a = arch_.with_channels(widths(counts));
  for (size_t i = 0; i < a.layers.size(); ++i) {
    Layer& l = a.layers[i];
    const Layer& b = arch_.layers[i];
    if (l.type == LayerType::bottleneck && l.out != b.out) l.mid = l.out * b.mid / b.out;
  }
  return a;
}

std::string ChannelGroups::describe() const {
  std::ostringstream s;
  for (size_t k = 0; k < groups_.size(); ++k) {
    const ChannelGroup& grp = groups_[k];
    s << "group " << k << ": " << grp.describe(arch_) << ", " << grp.width << " channels";
    if (grp.multiple > 1) s << " (multiples of " << grp.multiple << ")";
    s << "\n";
  }
  return s.str();
}

}  // namespace thor::pruner
