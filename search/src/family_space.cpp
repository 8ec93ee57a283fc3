// The block families of SearchSpace: resnet, lstm and transformer. Each is
// a depth (stages or layers) with one width per stage or layer, an optional
// structural choice besides the batch size (residual blocks per stage, or
// attention heads) and, for the transformer, the model dimension D.
#include "family_space.hpp"

#include <cmath>
#include <sstream>

namespace thor::search::detail {

namespace {

bool sequence_family(Family f) { return f == Family::lstm || f == Family::transformer; }

// Stages (resnet) or layers (lstm, transformer): the length of Genome::widths.
const std::vector<int64_t>& depth_choices(const SearchSpace& s) {
  return s.family == Family::resnet ? s.stages : s.layers;
}

// The values of Genome::widths: stage channels, hidden sizes or feed-forward widths.
const std::vector<int64_t>& width_choices(const SearchSpace& s) {
  switch (s.family) {
    case Family::resnet:
      return s.widths;
    case Family::lstm:
      return s.hidden;
    default:
      return s.ff;
  }
}

// The structural choice besides batch and depth: blocks per stage (resnet)
// or heads (transformer); a single "none" for lstm.
const std::vector<int64_t>& extra_choices(const SearchSpace& s) {
  static const std::vector<int64_t> none = {0};
  if (s.family == Family::resnet) return s.blocks_per_stage;
  if (s.family == Family::transformer) return s.heads;
  return none;
}

// The genome field holding that choice (an lstm genome's blocks, always 0).
using GenomeField = int64_t Genome::*;
GenomeField extra_field(Family f) {
  return f == Family::transformer ? &Genome::heads : &Genome::blocks;
}

int64_t largest(const std::vector<int64_t>& v) {
  return v.empty() ? 1 : *std::max_element(v.begin(), v.end());
}

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

void allow_family_keys(const YamlCursor& c, Family family) {
  // The keys each family has besides family, input, classes and batch_size.
  static const std::vector<std::pair<Family, std::vector<std::string>>> keys = {
      {Family::cnn,
       {"conv_blocks", "channels", "kernels", "pooling", "pool_size", "linear_layers",
        "linear_widths"}},
      {Family::resnet, {"stages", "blocks_per_stage", "widths"}},
      {Family::lstm, {"layers", "hidden"}},
      {Family::transformer, {"layers", "dims", "heads", "ff"}}};
  for (const auto& kv : c.node) {
    if (!kv.first.IsScalar()) continue;  // allow_only names it below
    const std::string key = kv.first.Scalar();
    std::string owners;
    bool own = false;
    for (const auto& [f, names] : keys) {
      if (!holds(names, key)) continue;
      own = own || f == family;
      owners += (owners.empty() ? "" : " or ") + to_string(f);
    }
    if (own || owners.empty()) continue;
    YamlCursor k{kv.first, c.file, c.path.empty() ? key : c.path + "." + key};
    k.fallback_line = c.line();
    k.fail("a key of family " + owners + ", but this space's family is " + to_string(family) +
           " (set `family:` or remove the key)");
  }
  switch (family) {
    case Family::cnn:
      return c.allow_only({"family", "input", "classes", "batch_size", "conv_blocks", "channels",
                           "kernels", "pooling", "pool_size", "linear_layers", "linear_widths"});
    case Family::resnet:
      return c.allow_only(
          {"family", "input", "classes", "batch_size", "stages", "blocks_per_stage", "widths"});
    case Family::lstm:
      return c.allow_only({"family", "input", "classes", "batch_size", "layers", "hidden"});
    case Family::transformer:
      return c.allow_only(
          {"family", "input", "classes", "batch_size", "layers", "dims", "heads", "ff"});
  }
}

void parse_family(const YamlCursor& c, SearchSpace& s) {
  if (sequence_family(s.family) && !c.has("input")) s.input = {28, 28};
  auto read = [&](const char* key, std::vector<int64_t>& field) {
    if (c.has(key)) field = int_choices(c.child(key));
  };
  read("stages", s.stages);
  read("blocks_per_stage", s.blocks_per_stage);
  read("widths", s.widths);
  read("layers", s.layers);
  read("hidden", s.hidden);
  read("dims", s.dims);
  read("heads", s.heads);
  read("ff", s.ff);
}

void validate_family(const SearchSpace& s) {
  const FieldRules& rules = space_rules();
  const std::string in = "[" + join(s.input) + "]";
  const bool positive =
      std::all_of(s.input.begin(), s.input.end(), [](int64_t x) { return x >= 1; });
  if (s.family == Family::resnet)
    rules.require(s.input.size() == 3 && positive, "input", in,
                  "expected [C, H, W], each >= 1 (family resnet is a CNN)");
  else
    rules.require(s.input.size() == 2 && positive, "input", in,
                  "expected [T, F], each >= 1 (family " + to_string(s.family) +
                      " reads a sequence of T steps of F features)");
  rules.count("classes", s.classes, 2, 1 << 20);
  check_list(s.batch_sizes, "batch_size", 1, 1 << 16);
  std::string factors;
  switch (s.family) {
    case Family::resnet:
      // At most 1 + 4 x 6 widths (SearchSpace::kMaxWidths).
      check_list(s.stages, "stages", 1, 4);
      check_list(s.blocks_per_stage, "blocks_per_stage", 1, 6);
      check_list(s.widths, "widths", 1, 1 << 14);
      factors = "batch sizes x stages x blocks_per_stage";
      break;
    case Family::lstm:
      check_list(s.layers, "layers", 1, 8);
      check_list(s.hidden, "hidden", 1, 1 << 14);
      factors = "batch sizes x layers";
      break;
    default:
      check_list(s.layers, "layers", 1, 8);
      check_list(s.dims, "dims", 1, 1 << 14);
      check_list(s.heads, "heads", 1, 256);
      check_list(s.ff, "ff", 1, 1 << 16);
      // Every (dim, heads) pair is a network of the space: no sampling rule to get wrong.
      for (int64_t d : s.dims)
        for (int64_t h : s.heads)
          if (d % h != 0)
            throw FieldError::bad_value("dims", "[" + join(s.dims) + "]",
                                        "expected every dim to be a multiple of every head count",
                                        "dim " + std::to_string(d) + " is not a multiple of " +
                                            std::to_string(h) + " heads (heads: [" + join(s.heads) +
                                            "]); every dim must be a multiple of every head count")
                .in_scope("search.space");
      factors = "batch sizes x layers x heads";
  }
  check_structures(s, factors);
}

Architecture build_family(const SearchSpace& s, const Genome& g) {
  Architecture a;
  a.input = s.input;
  a.batch_size = g.batch_size;
  if (s.family == Family::resnet) {
    // The stem's width is the first stage's, so that stage opens with an identity block.
    a.layers.push_back(Layer::conv(g.widths.front(), 3, 1, 1));
    a.layers.push_back(Layer::simple(LayerType::batchnorm));
    a.layers.push_back(Layer::simple(LayerType::relu));
    for (size_t st = 0; st < g.widths.size(); ++st)
      for (int64_t b = 0; b < g.blocks; ++b)
        a.layers.push_back(Layer::residual(g.widths[st], st > 0 && b == 0 ? 2 : 1));
    a.layers.push_back(Layer::simple(LayerType::global_avgpool));
  } else if (s.family == Family::lstm) {
    a.layout = Architecture::InputLayout::sequence;
    for (int64_t h : g.widths) a.layers.push_back(Layer::lstm(h, 1));
    a.layers.push_back(Layer::simple(LayerType::last));
  } else {
    a.layout = Architecture::InputLayout::sequence;
    a.layers.push_back(Layer::linear(g.dim));
    for (int64_t f : g.widths) a.layers.push_back(Layer::encoder(g.heads, f));
    a.layers.push_back(Layer::simple(LayerType::global_avgpool));
  }
  a.layers.push_back(Layer::linear(s.classes));
  return a;
}

bool contains_family(const SearchSpace& s, const Genome& g) {
  const Genome blank;  // the fields no block family uses stay at their defaults
  if (g.family != s.family || g.kernel != blank.kernel || g.pooling != blank.pooling ||
      !g.conv.empty() || !g.linear.empty())
    return false;
  if (!holds(s.batch_sizes, g.batch_size) ||
      !holds(depth_choices(s), static_cast<int64_t>(g.widths.size())))
    return false;
  for (int64_t w : g.widths)
    if (!holds(width_choices(s), w)) return false;
  const bool resnet = s.family == Family::resnet, transformer = s.family == Family::transformer;
  if (resnet ? !holds(s.blocks_per_stage, g.blocks) : g.blocks != 0) return false;
  if (transformer ? !holds(s.heads, g.heads) || !holds(s.dims, g.dim) : g.heads != 0 || g.dim != 0)
    return false;
  return true;
}

Genome sample_family(const SearchSpace& s, Rng& rng) {
  Genome g;
  g.family = s.family;
  g.batch_size = pick(s.batch_sizes, rng);
  g.widths.resize(static_cast<size_t>(pick(depth_choices(s), rng)));
  for (auto& w : g.widths) w = pick(width_choices(s), rng);
  if (s.family != Family::lstm) g.*extra_field(s.family) = pick(extra_choices(s), rng);
  if (s.family == Family::transformer) g.dim = pick(s.dims, rng);
  return g;
}

Genome mutate_family(const SearchSpace& s, const Genome& parent, Rng& rng) {
  const std::vector<int64_t> widths = sorted(width_choices(s)), dims = sorted(s.dims);
  const auto& depths = depth_choices(s);
  const auto& extra = extra_choices(s);
  // As for cnn: width changes (one move per stage or layer) as likely as structural ones.
  enum Move { kWidth, kDim, kDepth, kExtra, kBatch };
  std::vector<Move> moves;
  if (widths.size() > 1)
    for (size_t i = 0; i < parent.widths.size(); ++i) moves.push_back(kWidth);
  if (s.family == Family::transformer && dims.size() > 1) moves.push_back(kDim);
  if (depths.size() > 1) moves.push_back(kDepth);
  if (extra.size() > 1) moves.push_back(kExtra);
  if (s.batch_sizes.size() > 1) moves.push_back(kBatch);
  Genome g = parent;
  if (moves.empty()) return g;
  switch (pick(moves, rng)) {
    case kWidth: {
      auto& w = g.widths[std::uniform_int_distribution<size_t>(0, g.widths.size() - 1)(rng)];
      w = step_value(widths, w, rng);
      break;
    }
    case kDim:
      g.dim = step_value(dims, g.dim, rng);
      break;
    case kDepth: {
      // A stage or layer added (repeating the last one's width) or the last ones removed.
      const auto n = static_cast<size_t>(other(depths, static_cast<int64_t>(g.widths.size()), rng));
      while (g.widths.size() < n)
        g.widths.push_back(g.widths.empty() ? pick(widths, rng) : g.widths.back());
      g.widths.resize(n);
      break;
    }
    case kExtra: {
      int64_t& e = g.*extra_field(s.family);
      e = other(extra, e, rng);
      break;
    }
    case kBatch:
      g.batch_size = other(s.batch_sizes, g.batch_size, rng);
      break;
  }
  return g;
}

Genome crossover_family(const SearchSpace& s, const Genome& a, const Genome& b, Rng& rng) {
  auto coin = [&] { return std::uniform_int_distribution<int>(0, 1)(rng) == 1; };
  Genome g;
  g.family = s.family;
  g.batch_size = coin() ? a.batch_size : b.batch_size;
  // Depth from one parent, each stage's or layer's width from either where both have it.
  const Genome& deep = coin() ? a : b;
  const Genome& other_parent = &deep == &a ? b : a;
  g.widths = deep.widths;
  for (size_t i = 0; i < g.widths.size() && i < other_parent.widths.size(); ++i)
    if (coin()) g.widths[i] = other_parent.widths[i];
  g.blocks = coin() ? a.blocks : b.blocks;
  g.heads = coin() ? a.heads : b.heads;  // any dim of the space suits any heads
  g.dim = coin() ? a.dim : b.dim;
  return g;
}

size_t num_structures_family(const SearchSpace& s) {
  return s.batch_sizes.size() * depth_choices(s).size() * extra_choices(s).size();
}

size_t structure_index_family(const SearchSpace& s, const Genome& g) {
  const auto& depths = depth_choices(s);
  const auto& extra = extra_choices(s);
  size_t i = index_of(s.batch_sizes, g.batch_size);
  i = i * depths.size() + index_of(depths, static_cast<int64_t>(g.widths.size()));
  return i * extra.size() + index_of(extra, g.*extra_field(s.family));
}

std::vector<Genome> skeletons_family(const SearchSpace& s) {
  std::vector<Genome> out;
  for (int64_t b : s.batch_sizes)
    for (int64_t n : depth_choices(s))
      for (int64_t e : extra_choices(s)) {
        Genome g;
        g.family = s.family;
        g.batch_size = b;
        g.widths.assign(static_cast<size_t>(n), largest(width_choices(s)));
        g.*extra_field(s.family) = e;
        if (s.family == Family::transformer) g.dim = largest(s.dims);
        out.push_back(g);
      }
  return out;  // in structure_index order
}

double size_family(const SearchSpace& s) {
  double per_depth = 0;
  const auto w = static_cast<double>(width_choices(s).size());
  for (int64_t n : depth_choices(s)) per_depth += std::pow(w, static_cast<double>(n));
  const double dims = s.family == Family::transformer ? static_cast<double>(s.dims.size()) : 1.0;
  return static_cast<double>(s.batch_sizes.size() * extra_choices(s).size()) * dims * per_depth;
}

std::vector<WidthSlot> width_slots_family(const SearchSpace& s, Genome& g) {
  std::vector<WidthSlot> slots;
  for (auto& w : g.widths) slots.push_back({&w, &width_choices(s)});
  if (s.family == Family::transformer) slots.push_back({&g.dim, &s.dims});
  return slots;
}

size_t fill_widths_family(const Genome& g, int64_t* out) {
  size_t k = 0;
  switch (g.family) {
    case Family::resnet:
      out[k++] = g.widths.front();  // the stem
      for (int64_t w : g.widths)
        for (int64_t b = 0; b < g.blocks; ++b) out[k++] = w;
      break;
    case Family::transformer:
      out[k++] = g.dim;
      for (int64_t f : g.widths) out[k++] = f;
      break;
    default:
      for (int64_t h : g.widths) out[k++] = h;
  }
  return k;
}

nlohmann::json space_json_family(const SearchSpace& s) {
  nlohmann::json j = {{"family", to_string(s.family)},
                      {"input", s.input},
                      {"classes", s.classes},
                      {"batch_size", s.batch_sizes}};
  switch (s.family) {
    case Family::resnet:
      j["stages"] = s.stages;
      j["blocks_per_stage"] = s.blocks_per_stage;
      j["widths"] = s.widths;
      break;
    case Family::lstm:
      j["layers"] = s.layers;
      j["hidden"] = s.hidden;
      break;
    default:
      j["layers"] = s.layers;
      j["dims"] = s.dims;
      j["heads"] = s.heads;
      j["ff"] = s.ff;
  }
  return j;
}

std::string genome_text_family(const Genome& g) {
  std::ostringstream s;
  s << "b" << g.batch_size << " " << to_string(g.family);
  if (g.family == Family::resnet) s << " x" << g.blocks << " w[" << join(g.widths) << "]";
  if (g.family == Family::lstm) s << " h[" << join(g.widths) << "]";
  if (g.family == Family::transformer)
    s << " d" << g.dim << " h" << g.heads << " ff[" << join(g.widths) << "]";
  return s.str();
}

nlohmann::json genome_json_family(const Genome& g) {
  nlohmann::json j = {
      {"family", to_string(g.family)}, {"batch_size", g.batch_size}, {"widths", g.widths}};
  if (g.family == Family::resnet) j["blocks"] = g.blocks;
  if (g.family == Family::transformer) {
    j["dim"] = g.dim;
    j["heads"] = g.heads;
  }
  return j;
}

void genome_from_json_family(const nlohmann::json& j, Genome& g) {
  g.widths = j.at("widths").get<std::vector<int64_t>>();
  if (g.family == Family::resnet) g.blocks = j.at("blocks").get<int64_t>();
  if (g.family == Family::transformer) {
    g.dim = j.at("dim").get<int64_t>();
    g.heads = j.at("heads").get<int64_t>();
  }
}

}  // namespace thor::search::detail
