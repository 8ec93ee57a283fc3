// Planning of guided profiling (paper section 3.2): its options, which layer
// kinds an architecture set needs and the 1/2/3-layer variant network of each.
#include <algorithm>
#include <map>
#include <stdexcept>

#include "thor/profiler.hpp"

namespace thor {

// The API's rules (a recipe's `profile:` section is checked by ProfileSpec::validate,
// whose ranges lie within these).
void ProfilerOptions::validate() const {
  const FieldRules f("profile");
  f.require(max_points >= 2, "max_points", std::to_string(max_points), "expected >= 2");
  f.require(min_points >= 2, "min_points", std::to_string(min_points), "expected >= 2");
  f.require(std_fraction > 0.0 && std_fraction < 1.0, "std_fraction", value_text(std_fraction),
            "expected 0 < x < 1");
  f.require(loo_fraction > 0.0 && loo_fraction < 1.0, "loo_fraction", value_text(loo_fraction),
            "expected 0 < x < 1");
  f.count("anchors", anchors, 0, 100);
  f.nested("feed.train", [&] { feed.train.validate(); });
  model.validate();
  f.require(time_budget_s >= 0.0, "time_budget_s", value_text(time_budget_s), "expected >= 0");
  f.count("channel_lower", channel_lower, 1);
  f.nested("measure", [&] { measure.validate(); });
}

ProfilerOptions profiler_options(const Recipe& recipe) {
  ProfilerOptions o;
  o.max_points = recipe.profile.max_points;
  o.min_points = recipe.profile.min_points;
  o.std_fraction = recipe.profile.std_fraction;
  o.loo_fraction = recipe.profile.loo_fraction;
  o.anchors = recipe.profile.anchors;
  o.time_budget_s = recipe.profile.time_budget_s;
  o.measure = recipe.profile.measure;
  o.feed.train = recipe.train;
  return o;
}

// ------------------------------------------------------------------ planning

namespace {

std::vector<Layer> strip_trailing_flatten(std::vector<Layer> layers) {
  while (!layers.empty() && layers.back().type == LayerType::flatten) layers.pop_back();
  return layers;
}

std::vector<Layer> with_param_out(std::vector<Layer> layers, int64_t out) {
  for (auto& l : layers)
    if (l.parametric()) l.out = out;
  return layers;
}

// Appends "flatten (if needed) + linear(classes)" so the variant ends in scores.
void append_output(Architecture& a, int64_t classes) {
  a.layers = strip_trailing_flatten(a.layers);
  const auto infos = a.infer();
  if (infos.back().out_layout != Layout::flat)
    a.layers.push_back(Layer::simple(LayerType::flatten));
  a.layers.push_back(Layer::linear(classes));
}

// Data of a variant: a shape and its layout.
struct Data {
  std::vector<int64_t> shape;
  Architecture::InputLayout layout = Architecture::InputLayout::automatic;

  static Data of(const Architecture& a) { return {a.input, a.layout}; }
  // Data shaped like a block's input (its structured shape and layout).
  static Data like(const std::vector<int64_t>& shape, Layout layout) {
    Data d{shape, Architecture::InputLayout::automatic};
    if (layout == Layout::channels) d.layout = Architecture::InputLayout::channels;
    if (layout == Layout::sequence) d.layout = Architecture::InputLayout::sequence;
    if (layout == Layout::tokens) d.layout = Architecture::InputLayout::tokens;
    return d;
  }
  // This data with its width (C, F or D) set to `w`.
  Data with_width(int64_t w) const {
    Data d = *this;
    d.shape[layout == Architecture::InputLayout::sequence ? 1 : 0] = w;
    return d;
  }
  Architecture network(int64_t batch, std::vector<Layer> layers) const {
    Architecture a;
    a.input = shape;
    a.layout = layout;
    a.batch_size = batch;
    a.layers = std::move(layers);
    return a;
  }
};

// a rounded up (or down) to a multiple of m.
int64_t round_to(int64_t a, int64_t m, bool up) { return (up ? (a + m - 1) / m : a / m) * m; }

struct Planner {
  std::vector<KindPlan> outputs, inputs, hidden;
  std::map<std::string, KindPlan*> by_key;

  void merge(std::vector<KindPlan>& list, KindPlan plan) {
    auto it = by_key.find(plan.key);
    if (it != by_key.end()) {
      for (size_t d = 0; d < plan.upper.size(); ++d) {
        it->second->upper[d] = std::max(it->second->upper[d], plan.upper[d]);
        it->second->lower[d] = std::min(it->second->lower[d], plan.lower[d]);
      }
      return;
    }
    list.push_back(std::move(plan));
    // Pointers into vectors move on growth: rebuild the index.
    by_key.clear();
    for (auto* l : {&outputs, &inputs, &hidden})
      for (auto& p : *l) by_key[p.key] = &p;
  }

  // Plans the output kind of a variant's last block over the widths its
  // input takes between the variant's lowest and highest features.
  void add_output_of(const KindPlan& p, int64_t batch) {
    const auto lo = split_blocks(p.variant(p.lower)), hi = split_blocks(p.variant(p.upper));
    add_output(hi.back(), batch, std::min(lo.back().c_in, hi.back().c_in),
               std::max(lo.back().c_in, hi.back().c_in));
  }

  // 1-layer variant: data of the block's input shape with width c, the block.
  void add_output(const LayerBlock& blk, int64_t batch, int64_t lo, int64_t hi) {
    KindPlan p;
    p.key = blk.key;
    p.role = BlockRole::output;
    p.lower = {lo};
    p.upper = {hi};
    p.multiple = {1};
    p.target_block = 0;
    const Data data = Data::like(blk.in_structured, blk.in_layout);
    std::vector<Layer> layers = blk.layers;
    const bool has_leading = blk.first != blk.param;
    if (blk.flattened_input && !has_leading)
      layers.insert(layers.begin(), Layer::simple(LayerType::flatten));
    p.variant = [data, layers, batch](const std::vector<int64_t>& f) {
      return data.with_width(f[0]).network(batch, layers);
    };
    check(p, blk.key, {hi});
    merge(outputs, std::move(p));
  }

  // 2-layer variant: data → the block with C_out = c → output layer.
  void add_input(const LayerBlock& blk, const Data& data, int64_t batch, int64_t classes,
                 int64_t lo, int64_t hi) {
    KindPlan p;
    p.key = blk.key;
    p.role = BlockRole::input;
    p.lower = {lo};
    p.upper = {hi};
    p.multiple = {1};
    p.target_block = 0;
    const std::vector<Layer> layers = blk.layers;
    p.variant = [data, layers, batch, classes](const std::vector<int64_t>& f) {
      Architecture a = data.network(batch, with_param_out(layers, f[0]));
      append_output(a, classes);
      return a;
    };
    add_output_of(p, batch);
    check(p, blk.key, {hi});
    merge(inputs, std::move(p));
  }

  // 3-layer variant: adapter (C_out = c1) → the block (C_out = c2) → output
  // layer; a tied block takes c1 = c2 = c.
  void add_hidden(const LayerBlock& blk, const Architecture& arch, const LayerBlock& first,
                  int64_t classes, const std::vector<int64_t>& lo, const std::vector<int64_t>& hi) {
    const int64_t batch = arch.batch_size;
    const std::vector<Layer> body = strip_trailing_flatten(blk.layers);
    const bool flat_in = blk.flattened_input, tied = blk.tied;
    auto make = [body, flat_in, tied, batch, classes](const Data& data,
                                                      const std::vector<Layer>& adapter) {
      return [=](const std::vector<int64_t>& f) {
        const int64_t c1 = f[0], c2 = tied ? f[0] : f[1];
        Architecture a = data.network(batch, strip_trailing_flatten(with_param_out(adapter, c1)));
        if (flat_in) a.layers.push_back(Layer::simple(LayerType::flatten));
        for (const auto& l : with_param_out(body, c2)) a.layers.push_back(l);
        append_output(a, classes);
        return a;
      };
    };
    // Prefer the architecture's own input block as the adapter (fewer kinds);
    // fall back to a width-1 layer on data of the block's input size.
    std::vector<std::function<Architecture(const std::vector<int64_t>&)>> options;
    options.push_back(make(Data::of(arch), first.layers));
    Data small = Data::like(blk.in_structured, blk.in_layout)
                     .with_width(blk.in_layout == Layout::flat ? 64 : arch.input_channels());
    if (blk.in_layout == Layout::image)
      options.push_back(make(small, {Layer::conv(1, 1)}));
    else if (blk.in_layout == Layout::channels)
      options.push_back(make(small, {Layer::conv1d(1, 1)}));
    else
      options.push_back(make(small, {Layer::linear(1)}));
    for (auto& variant : options) {
      Architecture top;
      try {
        top = variant(hi);
      } catch (const InputError&) {
        continue;
      }
      const auto vb = split_blocks(top);
      if (vb.size() != 3 || vb[1].key != blk.key) continue;
      KindPlan p;
      p.key = blk.key;
      p.role = BlockRole::hidden;
      p.lower = lo;
      p.upper = hi;
      p.multiple = blk.multiple;
      p.target_block = 1;
      p.variant = variant;
      add_output_of(p, batch);
      add_input(vb[0], Data::of(top), batch, classes, lo[0], hi[0]);
      merge(hidden, std::move(p));
      return;
    }
    throw std::logic_error("profiler: no 3-layer variant reproduces hidden kind " + blk.key);
  }

  static void check(const KindPlan& p, const std::string& key, const std::vector<int64_t>& at) {
    const auto vb = split_blocks(p.variant(at));
    if (vb.at(p.target_block).key != key)
      throw std::logic_error("profiler: variant of " + key + " parses as " +
                             vb.at(p.target_block).key);
  }
};

}  // namespace

std::vector<KindPlan> plan_profiling(const std::vector<Architecture>& architectures, int64_t lo) {
  Planner planner;
  for (const auto& arch : architectures) {
    const auto blocks = split_blocks(arch);
    const int64_t classes = arch.num_outputs();
    for (const auto& b : blocks) {
      switch (b.role) {
        case BlockRole::output:
          planner.add_output(b, arch.batch_size, lo, std::max(lo, b.c_in));
          break;
        case BlockRole::input:
          planner.add_input(b, Data::of(arch), arch.batch_size, classes, lo, std::max(lo, b.c_out));
          break;
        case BlockRole::hidden: {
          // Ranges per feature, on each feature's multiple (an encoder's heads).
          std::vector<int64_t> l, h;
          for (size_t d = 0; d < b.features.size(); ++d) {
            const int64_t m = b.multiple[d], top = static_cast<int64_t>(b.features[d]);
            l.push_back(round_to(std::max(lo, m), m, true));
            h.push_back(std::max(l.back(), round_to(std::max(lo, top), m, false)));
          }
          planner.add_hidden(b, arch, blocks.front(), classes, l, h);
          break;
        }
      }
    }
  }
  std::vector<KindPlan> out;
  for (auto* l : {&planner.outputs, &planner.inputs, &planner.hidden})
    for (auto& p : *l) out.push_back(p);
  return out;
}

}  // namespace thor
