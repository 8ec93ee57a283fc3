#include "thor/search/space.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <tuple>

#include "family_space.hpp"

namespace thor::search {

namespace detail {

std::string join(const std::vector<int64_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

int64_t step_value(const std::vector<int64_t>& sorted, int64_t current, Rng& rng) {
  if (sorted.size() < 2) return current;
  if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) return other(sorted, current, rng);
  size_t i = index_of(sorted, current);
  if (i >= sorted.size()) return pick(sorted, rng);
  if (i == 0) return sorted[1];
  if (i + 1 == sorted.size()) return sorted[i - 1];
  return std::uniform_int_distribution<int>(0, 1)(rng) ? sorted[i + 1] : sorted[i - 1];
}

const FieldRules& space_rules() {
  static const FieldRules rules("search.space");
  return rules;
}

void check_list(const std::vector<int64_t>& v, const char* field, int64_t min, int64_t max) {
  if (v.empty()) space_rules().fail(field, "expected at least one value");
  const std::string list = "[" + join(v) + "]";
  const std::string range = "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
  for (int64_t x : v)
    if (x < min || x > max)
      throw FieldError::bad_value(field, list, "expected every value in " + range,
                                  "value " + std::to_string(x) + " out of range " + range)
          .in_scope("search.space");
  std::vector<int64_t> sorted = v;  // a range may hold 100000 values: not pair by pair
  std::sort(sorted.begin(), sorted.end());
  const auto twice = std::adjacent_find(sorted.begin(), sorted.end());
  if (twice != sorted.end())
    throw FieldError::bad_value(field, list, "expected every value once",
                                "value " + std::to_string(*twice) + " appears twice")
        .in_scope("search.space");
}

void check_structures(const SearchSpace& s, const std::string& what) {
  if (s.num_structures() > 4096)
    space_rules().fail("", std::to_string(s.num_structures()) + " structures (" + what +
                               ") is more than 4096; each must be profiled, so offer fewer "
                               "choices");
  for (const Genome& g : s.skeletons()) {
    try {
      s.build(g).validate();
    } catch (const InputError& e) {
      space_rules().fail(
          "", "the space holds an impossible network (" + g.to_string() + "): " + e.what());
    }
  }
}

}  // namespace detail

using namespace detail;

namespace {

const FieldRules& kSpace = space_rules();

// The cnn genome's widths in the order Oracle::scan counts through them.
std::vector<WidthSlot> width_slots(const SearchSpace& s, Genome& g) {
  if (s.family != Family::cnn) return width_slots_family(s, g);
  std::vector<WidthSlot> slots;
  for (auto& c : g.conv) slots.push_back({&c, &s.channels});
  for (auto& w : g.linear) slots.push_back({&w, &s.linear_widths});
  return slots;
}

}  // namespace

std::string to_string(Family family) {
  switch (family) {
    case Family::cnn:
      return "cnn";
    case Family::resnet:
      return "resnet";
    case Family::lstm:
      return "lstm";
    case Family::transformer:
      return "transformer";
  }
  return "?";
}

std::optional<Family> family_from_string(const std::string& name) {
  for (Family f : {Family::cnn, Family::resnet, Family::lstm, Family::transformer})
    if (to_string(f) == name) return f;
  return std::nullopt;
}

bool Genome::operator==(const Genome& o) const {
  return batch_size == o.batch_size && kernel == o.kernel && pooling == o.pooling &&
         conv == o.conv && linear == o.linear && family == o.family && widths == o.widths &&
         blocks == o.blocks && heads == o.heads && dim == o.dim;
}

bool Genome::operator<(const Genome& o) const {
  // cnn genomes order as they did before the block families' fields existed.
  return std::tie(batch_size, kernel, pooling, conv, linear, family, widths, blocks, heads, dim) <
         std::tie(o.batch_size, o.kernel, o.pooling, o.conv, o.linear, o.family, o.widths, o.blocks,
                  o.heads, o.dim);
}

std::string Genome::to_string() const {
  if (family != Family::cnn) return genome_text_family(*this);
  std::ostringstream s;
  s << "b" << batch_size << " k" << kernel << " " << pooling << " conv[" << join(conv) << "] fc["
    << join(linear) << "]";
  return s.str();
}

nlohmann::json Genome::to_json() const {
  if (family != Family::cnn) return genome_json_family(*this);
  return {{"batch_size", batch_size},
          {"kernel", kernel},
          {"pooling", pooling},
          {"conv", conv},
          {"linear", linear}};
}

Genome Genome::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    Genome g;
    if (j.contains("family")) {
      const auto name = j.at("family").get<std::string>();
      const auto family = family_from_string(name);
      if (!family) throw InputError(where + ": bad genome: unknown family '" + name + "'");
      g.family = *family;
    }
    g.batch_size = j.at("batch_size").get<int64_t>();
    if (g.family != Family::cnn) {
      genome_from_json_family(j, g);
      return g;
    }
    g.kernel = j.at("kernel").get<int64_t>();
    g.pooling = j.at("pooling").get<std::string>();
    g.conv = j.at("conv").get<std::vector<int64_t>>();
    g.linear = j.at("linear").get<std::vector<int64_t>>();
    return g;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": bad genome: " + e.what());
  }
}

// Fields are named by their recipe keys (batch_size for batch_sizes).
void SearchSpace::validate() const {
  if (family != Family::cnn) return validate_family(*this);
  kSpace.require(input.size() == 3 &&
                     std::all_of(input.begin(), input.end(), [](int64_t x) { return x >= 1; }),
                 "input", "[" + join(input) + "]",
                 "expected [C, H, W], each >= 1 (the search space is a CNN)");
  kSpace.count("classes", classes, 2, 1 << 20);
  check_list(batch_sizes, "batch_size", 1, 1 << 16);
  check_list(conv_blocks, "conv_blocks", 1, 8);
  check_list(channels, "channels", 1, 1 << 14);
  check_list(kernels, "kernels", 1, 31);
  check_list(linear_layers, "linear_layers", 0, 4);
  if (std::any_of(linear_layers.begin(), linear_layers.end(), [](int64_t n) { return n > 0; }))
    check_list(linear_widths, "linear_widths", 1, 1 << 16);
  kSpace.count("pool_size", pool_size, 1, 64);
  if (pooling.empty()) kSpace.fail("pooling", "expected at least one of max, avg, none");
  for (size_t i = 0; i < pooling.size(); ++i) {
    const auto& p = pooling[i];
    kSpace.require(p == "max" || p == "avg" || p == "none", "pooling", "'" + p + "'",
                   "expected max, avg or none");
    for (size_t j = 0; j < i; ++j)
      if (pooling[j] == p) kSpace.fail("pooling", "'" + p + "' appears twice");
  }
  check_structures(*this, "batch sizes x kernels x pooling x conv_blocks x linear_layers");
}

Architecture SearchSpace::build(const Genome& g) const {
  if (family != Family::cnn) return build_family(*this, g);
  Architecture a;
  a.input = input;
  a.batch_size = g.batch_size;
  for (int64_t c : g.conv) {
    a.layers.push_back(Layer::conv(c, g.kernel, 1, g.kernel / 2));
    a.layers.push_back(Layer::simple(LayerType::relu));
    if (g.pooling == "max") a.layers.push_back(Layer::pool(LayerType::maxpool, pool_size));
    if (g.pooling == "avg") a.layers.push_back(Layer::pool(LayerType::avgpool, pool_size));
  }
  a.layers.push_back(Layer::simple(LayerType::flatten));
  for (int64_t w : g.linear) {
    a.layers.push_back(Layer::linear(w));
    a.layers.push_back(Layer::simple(LayerType::relu));
  }
  a.layers.push_back(Layer::linear(classes));
  return a;
}

bool SearchSpace::contains(const Genome& g) const {
  if (family != Family::cnn) return contains_family(*this, g);
  auto in = [](const auto& v, const auto& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  if (g.family != family || !g.widths.empty() || g.blocks != 0 || g.heads != 0 || g.dim != 0)
    return false;
  if (!in(batch_sizes, g.batch_size) || !in(kernels, g.kernel) || !in(pooling, g.pooling))
    return false;
  if (!in(conv_blocks, static_cast<int64_t>(g.conv.size()))) return false;
  if (!in(linear_layers, static_cast<int64_t>(g.linear.size()))) return false;
  for (int64_t c : g.conv)
    if (!in(channels, c)) return false;
  for (int64_t w : g.linear)
    if (!in(linear_widths, w)) return false;
  return true;
}

Genome SearchSpace::sample(Rng& rng) const {
  if (family != Family::cnn) return sample_family(*this, rng);
  Genome g;
  g.batch_size = pick(batch_sizes, rng);
  g.kernel = pick(kernels, rng);
  g.pooling = pick(pooling, rng);
  g.conv.resize(static_cast<size_t>(pick(conv_blocks, rng)));
  for (auto& c : g.conv) c = pick(channels, rng);
  g.linear.resize(static_cast<size_t>(pick(linear_layers, rng)));
  for (auto& w : g.linear) w = pick(linear_widths, rng);
  return g;
}

Genome SearchSpace::mutate(const Genome& parent, Rng& rng) const {
  if (family != Family::cnn) return mutate_family(*this, parent, rng);
  std::vector<int64_t> sorted_channels = channels, sorted_widths = linear_widths;
  std::sort(sorted_channels.begin(), sorted_channels.end());
  std::sort(sorted_widths.begin(), sorted_widths.end());
  // The kinds of change this space allows, weighted so that channel changes
  // (one per layer) are as likely as structural ones in total.
  enum Move { kChannel, kWidth, kBlocks, kLinears, kKernel, kPool, kBatch };
  std::vector<Move> moves;
  if (sorted_channels.size() > 1)
    for (size_t i = 0; i < parent.conv.size(); ++i) moves.push_back(kChannel);
  if (sorted_widths.size() > 1)
    for (size_t i = 0; i < parent.linear.size(); ++i) moves.push_back(kWidth);
  if (conv_blocks.size() > 1) moves.push_back(kBlocks);
  if (linear_layers.size() > 1) moves.push_back(kLinears);
  if (kernels.size() > 1) moves.push_back(kKernel);
  if (pooling.size() > 1) moves.push_back(kPool);
  if (batch_sizes.size() > 1) moves.push_back(kBatch);
  Genome g = parent;
  if (moves.empty()) return g;
  switch (pick(moves, rng)) {
    case kChannel: {
      auto& c = g.conv[std::uniform_int_distribution<size_t>(0, g.conv.size() - 1)(rng)];
      c = step_value(sorted_channels, c, rng);
      break;
    }
    case kWidth: {
      auto& w = g.linear[std::uniform_int_distribution<size_t>(0, g.linear.size() - 1)(rng)];
      w = step_value(sorted_widths, w, rng);
      break;
    }
    case kBlocks: {
      const auto n =
          static_cast<size_t>(other(conv_blocks, static_cast<int64_t>(g.conv.size()), rng));
      // Grow by repeating the last block's channels, shrink by dropping the last blocks.
      while (g.conv.size() < n)
        g.conv.push_back(g.conv.empty() ? pick(channels, rng) : g.conv.back());
      g.conv.resize(n);
      break;
    }
    case kLinears: {
      const auto n =
          static_cast<size_t>(other(linear_layers, static_cast<int64_t>(g.linear.size()), rng));
      while (g.linear.size() < n) g.linear.push_back(pick(linear_widths, rng));
      g.linear.resize(n);
      break;
    }
    case kKernel:
      g.kernel = other(kernels, g.kernel, rng);
      break;
    case kPool:
      g.pooling = other(pooling, g.pooling, rng);
      break;
    case kBatch:
      g.batch_size = other(batch_sizes, g.batch_size, rng);
      break;
  }
  return g;
}

Genome SearchSpace::crossover(const Genome& a, const Genome& b, Rng& rng) const {
  if (family != Family::cnn) return crossover_family(*this, a, b, rng);
  auto coin = [&] { return std::uniform_int_distribution<int>(0, 1)(rng) == 1; };
  Genome g;
  g.batch_size = coin() ? a.batch_size : b.batch_size;
  g.kernel = coin() ? a.kernel : b.kernel;
  g.pooling = coin() ? a.pooling : b.pooling;
  // Depth from one parent, each layer's channels from either where both have that layer.
  const Genome& deep = coin() ? a : b;
  const Genome& other_parent = &deep == &a ? b : a;
  g.conv = deep.conv;
  for (size_t i = 0; i < g.conv.size() && i < other_parent.conv.size(); ++i)
    if (coin()) g.conv[i] = other_parent.conv[i];
  const Genome& wide = coin() ? a : b;
  const Genome& other_wide = &wide == &a ? b : a;
  g.linear = wide.linear;
  for (size_t i = 0; i < g.linear.size() && i < other_wide.linear.size(); ++i)
    if (coin()) g.linear[i] = other_wide.linear[i];
  return g;
}

size_t SearchSpace::num_structures() const {
  if (family != Family::cnn) return num_structures_family(*this);
  return batch_sizes.size() * kernels.size() * pooling.size() * conv_blocks.size() *
         linear_layers.size();
}

size_t SearchSpace::structure_index(const Genome& g) const {
  if (family != Family::cnn) return structure_index_family(*this, g);
  size_t i = index_of(batch_sizes, g.batch_size);
  i = i * kernels.size() + index_of(kernels, g.kernel);
  i = i * pooling.size() + index_of(pooling, g.pooling);
  i = i * conv_blocks.size() + index_of(conv_blocks, static_cast<int64_t>(g.conv.size()));
  i = i * linear_layers.size() + index_of(linear_layers, static_cast<int64_t>(g.linear.size()));
  return i;
}

std::vector<Genome> SearchSpace::skeletons() const {
  if (family != Family::cnn) return skeletons_family(*this);
  const int64_t cmax = channels.empty() ? 1 : *std::max_element(channels.begin(), channels.end());
  const int64_t wmax =
      linear_widths.empty() ? 1 : *std::max_element(linear_widths.begin(), linear_widths.end());
  std::vector<Genome> out;
  for (int64_t b : batch_sizes)
    for (int64_t k : kernels)
      for (const auto& p : pooling)
        for (int64_t n : conv_blocks)
          for (int64_t l : linear_layers) {
            Genome g;
            g.batch_size = b;
            g.kernel = k;
            g.pooling = p;
            g.conv.assign(static_cast<size_t>(n), cmax);
            g.linear.assign(static_cast<size_t>(l), wmax);
            out.push_back(g);
          }
  return out;  // in structure_index order
}

double SearchSpace::size() const {
  if (family != Family::cnn) return size_family(*this);
  double total = 0;
  const double per_struct =
      static_cast<double>(batch_sizes.size() * kernels.size() * pooling.size());
  for (int64_t n : conv_blocks)
    for (int64_t l : linear_layers)
      total += per_struct * std::pow(static_cast<double>(channels.size()), static_cast<double>(n)) *
               std::pow(static_cast<double>(linear_widths.size()), static_cast<double>(l));
  return total;
}

void SearchSpace::for_each_point(const std::function<void(const Genome&)>& visit) const {
  for (Genome g : skeletons()) {
    // Count through the structure's width choices like an odometer.
    const std::vector<WidthSlot> slots = width_slots(*this, g);
    std::vector<size_t> digit(slots.size(), 0);
    for (;;) {
      for (size_t i = 0; i < slots.size(); ++i) *slots[i].value = (*slots[i].choices)[digit[i]];
      visit(g);
      size_t d = 0;
      for (; d < digit.size(); ++d) {
        if (++digit[d] < slots[d].choices->size()) break;
        digit[d] = 0;
      }
      if (d == digit.size()) break;
    }
  }
}

size_t SearchSpace::fill_widths(const Genome& g, int64_t* out) const {
  if (family != Family::cnn) return fill_widths_family(g, out);
  size_t k = 0;
  for (int64_t c : g.conv) out[k++] = c;
  for (int64_t w : g.linear) out[k++] = w;
  return k;
}

std::string SearchSpace::fingerprint() const { return to_json().dump(); }

nlohmann::json SearchSpace::to_json() const {
  if (family != Family::cnn) return space_json_family(*this);
  return {{"input", input},
          {"classes", classes},
          {"batch_size", batch_sizes},
          {"conv_blocks", conv_blocks},
          {"channels", channels},
          {"kernels", kernels},
          {"pooling", pooling},
          {"pool_size", pool_size},
          {"linear_layers", linear_layers},
          {"linear_widths", linear_widths}};
}

namespace detail {

// A list, or a range {min, max, step} / {min, max, factor}. Only the form is
// checked here; the values' rules are in SearchSpace::validate.
std::vector<int64_t> int_choices(const YamlCursor& c) {
  constexpr size_t kMaxValues = 100000;
  std::vector<int64_t> out;
  if (c.is_scalar()) {
    out.push_back(c.as_int());
  } else if (c.is_sequence()) {
    out = c.as_int_list();
  } else if (c.is_map()) {
    c.allow_only({"min", "max", "step", "factor"});
    if (!c.has("min") || !c.has("max"))
      c.fail("a range needs min and max, e.g. {min: 4, max: 64, step: 4}");
    const int64_t a = c.get_int("min", 0), b = c.get_int("max", 0);
    if (b < a) c.fail("range max " + std::to_string(b) + " is below min " + std::to_string(a));
    if (c.has("step") && c.has("factor")) c.fail("give step or factor, not both");
    auto too_many = [&] {
      c.fail("range holds more than " + std::to_string(kMaxValues) + " values");
    };
    if (c.has("factor")) {
      const double f = c.get_double("factor", 2.0);
      if (!(f >= 1.01))
        c.child("factor").fail("a range's factor must be >= 1.01, got " +
                               c.child("factor").as_string());
      if (a < 1)
        c.child("min").fail("a range with a factor needs min >= 1, got " + std::to_string(a));
      for (double x = static_cast<double>(a); x <= static_cast<double>(b) + 1e-9; x *= f) {
        const auto v = static_cast<int64_t>(std::llround(x));
        if (out.empty() || out.back() != v) out.push_back(v);
        if (out.size() > kMaxValues) too_many();
      }
    } else {
      const int64_t s = c.get_int("step", 1);
      if (s < 1) c.child("step").fail("a range's step must be >= 1, got " + std::to_string(s));
      for (int64_t x = a;; x += s) {
        out.push_back(x);
        if (out.size() > kMaxValues) too_many();
        if (static_cast<uint64_t>(b) - static_cast<uint64_t>(x) < static_cast<uint64_t>(s))
          break;  // x <= b
      }
    }
  } else {
    c.fail("expected a list of integers or a range {min, max, step}");
  }
  return out;
}

}  // namespace detail

SearchSpace parse_space(const YamlCursor& c) {
  c.expect_map();
  SearchSpace s;
  if (c.has("family")) {
    const YamlCursor f = c.child("family");
    const std::string name = f.as_string();
    const auto family = family_from_string(name);
    if (!family) f.fail("unknown family '" + name + "'; expected cnn, resnet, lstm or transformer");
    s.family = *family;
  }
  allow_family_keys(c, s.family);
  if (c.has("input")) s.input = c.child("input").as_int_list();
  s.classes = c.get_int("classes", s.classes);
  if (c.has("batch_size")) s.batch_sizes = int_choices(c.child("batch_size"));
  if (s.family != Family::cnn) {
    parse_family(c, s);
  } else {
    if (c.has("conv_blocks")) s.conv_blocks = int_choices(c.child("conv_blocks"));
    if (c.has("channels")) s.channels = int_choices(c.child("channels"));
    if (c.has("kernels")) s.kernels = int_choices(c.child("kernels"));
    if (c.has("pooling")) {
      const YamlCursor p = c.child("pooling");
      s.pooling = p.is_scalar() ? std::vector<std::string>{p.as_string()} : p.as_string_list();
    }
    s.pool_size = c.get_int("pool_size", s.pool_size);
    if (c.has("linear_layers")) s.linear_layers = int_choices(c.child("linear_layers"));
    if (c.has("linear_widths")) s.linear_widths = int_choices(c.child("linear_widths"));
  }
  c.validate_with([&] { s.validate(); });
  return s;
}

}  // namespace thor::search
