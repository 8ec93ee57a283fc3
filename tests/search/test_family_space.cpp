// Search spaces of the block families (resnet, lstm, transformer): parsing
// and its errors, the networks they build, sampling, mutation, crossover,
// structures, JSON, and a small search job per family on the sim meter.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "thor/layer_kind.hpp"
#include "thor/search/job.hpp"
#include "thor/search/space.hpp"
#include "thor_test_support.hpp"

using namespace thor;
using namespace thor::search;
namespace fs = std::filesystem;

namespace {

SearchSpace parse_text(const std::string& text) {
  return parse_space(load_yaml_text(text, "space.yaml"));
}

std::string error_of(const std::string& text) {
  try {
    parse_text(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

const char* kResnet =
    "family: resnet\ninput: [1, 28, 28]\nbatch_size: [16, 32]\nstages: [2, 3]\n"
    "blocks_per_stage: [1, 2, 3]\nwidths: [8, 16, 24, 32]\n";
const char* kLstm = "family: lstm\ninput: [28, 28]\nlayers: [1, 2]\nhidden: [16, 32, 64]\n";
const char* kTransformer =
    "family: transformer\ninput: [28, 28]\nlayers: [1, 2, 3]\ndims: [16, 32, 64]\n"
    "heads: [2, 4]\nff: [32, 64]\n";

// The widths a CostPlan of build(g) takes: every parametric layer's but the classifier's.
std::vector<int64_t> plan_widths(const SearchSpace& s, const Genome& g) {
  int64_t out[SearchSpace::kMaxWidths];
  const size_t n = s.fill_widths(g, out);
  return {out, out + n};
}

// A legal network of a family: valid, identity shortcuts where a ResNet block
// keeps its width at stride 1, D a multiple of the heads (conform_widths
// changes nothing), and the oracle's widths those of the network.
void check_network(const SearchSpace& s, const Genome& g) {
  INFO(g.to_string());
  REQUIRE(s.contains(g));
  REQUIRE(s.structure_index(g) < s.num_structures());
  const Architecture a = s.build(g);
  REQUIRE_NOTHROW(a.validate());
  CHECK(a.num_outputs() == s.classes);
  CHECK(conform_widths(a, a.channels()) == a);
  std::vector<int64_t> ch = a.channels();
  ch.pop_back();
  CHECK(plan_widths(s, g) == ch);
  if (g.family == Family::resnet) {
    size_t tied = 0, residual = 0;
    for (const LayerBlock& b : split_blocks(a)) {
      tied += b.tied;
      residual += b.key.find("residual") != std::string::npos;
    }
    // Every residual block but the first of each later stage (stride 2) is an identity block.
    CHECK(residual == g.widths.size() * static_cast<size_t>(g.blocks));
    CHECK(tied == residual - (g.widths.size() - 1));
  }
  if (g.family == Family::transformer) {
    CHECK(g.dim % g.heads == 0);
    CHECK(width_multiples(a).front() % g.heads == 0);
  }
}

}  // namespace

TEST_CASE("each family parses and builds valid networks of every structure") {
  struct Case {
    const char* text;
    Family family;
    size_t structures;
    double size;
  };
  // resnet: 2 batches x 2 stage counts x 3 block counts; 4 widths per stage.
  // lstm: 2 layer counts; 3 + 9 width choices. transformer: 3 layer counts x
  // 2 heads; 3 dims x (2 + 4 + 8) ff choices.
  const Case cases[] = {{kResnet, Family::resnet, 12, 2.0 * 3 * (16 + 64)},
                        {kLstm, Family::lstm, 2, 3 + 9},
                        {kTransformer, Family::transformer, 6, 2.0 * 3 * (2 + 4 + 8)}};
  for (const Case& c : cases) {
    const SearchSpace s = parse_text(c.text);
    INFO(to_string(c.family));
    CHECK(s.family == c.family);
    CHECK(s.num_structures() == c.structures);
    CHECK(s.size() == doctest::Approx(c.size));
    const auto skel = s.skeletons();
    REQUIRE(skel.size() == s.num_structures());
    std::set<size_t> covered;
    for (size_t i = 0; i < skel.size(); ++i) {
      CHECK(skel[i].family == c.family);
      CHECK(s.structure_index(skel[i]) == i);
      covered.insert(s.structure_index(skel[i]));
      check_network(s, skel[i]);
    }
    CHECK(covered.size() == s.num_structures());
    // Every point, once, in the space; as many as size() says.
    std::set<Genome> points;
    s.for_each_point([&](const Genome& g) {
      CHECK(s.contains(g));
      points.insert(g);
    });
    CHECK(static_cast<double>(points.size()) == doctest::Approx(c.size));
  }
}

TEST_CASE("the families' networks: resnet stages, lstm layers, transformer encoders") {
  Genome r;
  r.family = Family::resnet;
  r.widths = {8, 16};
  r.blocks = 2;
  const Architecture ra = parse_text(kResnet).build(r);
  CHECK(ra.summary().find("conv(8") != std::string::npos);
  CHECK(ra.channels() == std::vector<int64_t>{8, 8, 8, 16, 16, 10});
  CHECK(ra.layers[5].stride == 2);  // stem conv, batchnorm, relu, 2 blocks, then stage 2
  CHECK(ra.layers[ra.layers.size() - 2].type == LayerType::global_avgpool);

  Genome l;
  l.family = Family::lstm;
  l.widths = {64, 32};
  const Architecture la = parse_text(kLstm).build(l);
  CHECK(la.input_layout() == Layout::sequence);
  CHECK(la.channels() == std::vector<int64_t>{64, 32, 10});
  CHECK(la.layers[2].type == LayerType::last);

  Genome t;
  t.family = Family::transformer;
  t.dim = 32;
  t.heads = 4;
  t.widths = {64, 32};
  const Architecture ta = parse_text(kTransformer).build(t);
  CHECK(ta.input_layout() == Layout::sequence);
  CHECK(ta.channels() == std::vector<int64_t>{32, 64, 32, 10});
  CHECK(ta.layers[1].heads == 4);
  CHECK(t.to_string() == "b32 transformer d32 h4 ff[64,32]");
  CHECK(r.to_string() == "b32 resnet x2 w[8,16]");
  CHECK(l.to_string() == "b32 lstm h[64,32]");
}

TEST_CASE("sampling, mutation and crossover stay in a family's space and keep it legal") {
  for (const char* text : {kResnet, kLstm, kTransformer}) {
    const SearchSpace s = parse_text(text);
    INFO(to_string(s.family));
    Rng rng(11);
    std::set<size_t> structures;
    std::set<int> moved;  // 0 width, 1 depth, 2 blocks/heads, 3 batch, 4 dim
    for (int i = 0; i < 300; ++i) {
      const Genome g = s.sample(rng);
      check_network(s, g);
      structures.insert(s.structure_index(g));
      const Genome m = s.mutate(g, rng);
      check_network(s, m);
      CHECK(m != g);  // every family here has other values for every choice
      const int changes = (g.widths.size() != m.widths.size()) + (g.blocks != m.blocks) +
                          (g.heads != m.heads) + (g.batch_size != m.batch_size) + (g.dim != m.dim);
      int width_changes = 0;
      if (g.widths.size() == m.widths.size())
        for (size_t k = 0; k < g.widths.size(); ++k) width_changes += g.widths[k] != m.widths[k];
      CHECK(changes + width_changes == 1);
      if (width_changes) moved.insert(0);
      if (g.widths.size() != m.widths.size()) moved.insert(1);
      if (g.blocks != m.blocks || g.heads != m.heads) moved.insert(2);
      if (g.batch_size != m.batch_size) moved.insert(3);
      if (g.dim != m.dim) moved.insert(4);
      check_network(s, s.crossover(g, m, rng));
    }
    CHECK(structures.size() == s.num_structures());
    CHECK(moved.count(0) == 1);
    CHECK(moved.count(1) == 1);
    if (s.family != Family::lstm) CHECK(moved.count(2) == 1);
    if (s.family == Family::resnet) CHECK(moved.count(3) == 1);
    if (s.family == Family::transformer) CHECK(moved.count(4) == 1);
  }
}

TEST_CASE("family genomes round-trip through JSON; spaces of other families differ") {
  std::set<std::string> fingerprints;
  for (const char* text : {kResnet, kLstm, kTransformer}) {
    const SearchSpace s = parse_text(text);
    Rng rng(5);
    for (int i = 0; i < 20; ++i) {
      const Genome g = s.sample(rng);
      const nlohmann::json j = g.to_json();
      CHECK(j.at("family") == to_string(s.family));
      CHECK(Genome::from_json(j, "x") == g);
      CHECK(Genome::from_json(nlohmann::json::parse(j.dump()), "x") == g);
    }
    CHECK(s.to_json().at("family") == to_string(s.family));
    fingerprints.insert(s.fingerprint());
  }
  // The default family's JSON is as it was before families (checkpoints stay valid).
  const SearchSpace cnn;
  CHECK_FALSE(cnn.to_json().contains("family"));
  CHECK_FALSE(Genome{}.to_json().contains("family"));
  fingerprints.insert(cnn.fingerprint());
  CHECK(fingerprints.size() == 4);
  // A cnn genome is not in a block family's space and back.
  CHECK_FALSE(parse_text(kLstm).contains(Genome{}));
  Rng rng(2);
  CHECK_FALSE(cnn.contains(parse_text(kLstm).sample(rng)));
  CHECK_THROWS_WITH_AS(
      Genome::from_json(nlohmann::json{{"family", "vgg"}, {"batch_size", 8}}, "ck.json"),
      doctest::Contains("ck.json: bad genome: unknown family 'vgg'"), InputError);
  CHECK_THROWS_WITH_AS(
      Genome::from_json(nlohmann::json{{"family", "resnet"}, {"batch_size", 8}}, "ck.json"),
      doctest::Contains("ck.json: bad genome"), InputError);
}

TEST_CASE("bad family spaces are one error naming the file, line and key") {
  auto has = [](const std::string& text, const std::string& want) {
    const std::string msg = error_of(text);
    INFO(msg);
    CHECK(msg.find(want) != std::string::npos);
  };
  has("family: vgg\n", "space.yaml:1: key 'family': unknown family 'vgg'; expected cnn, resnet");
  has("family: resnet\nwidths: [8]\nchannels: [4]\n",
      "space.yaml:3: key 'channels': a key of family cnn, but this space's family is resnet");
  has("stages: [2]\n",
      "space.yaml:1: key 'stages': a key of family resnet, but this space's "
      "family is cnn");
  has("family: resnet\nlayers: [2]\n", "key 'layers': a key of family lstm or transformer");
  has("family: lstm\nhiden: [8]\n", "space.yaml:2: key 'hiden': unknown key; allowed here:");
  has("family: transformer\ndims: [16, 30]\nheads: [2, 4]\n",
      "space.yaml:2: key 'dims': dim 30 is not a multiple of 4 heads");
  has("family: transformer\ndims: [16, 32]\nheads: [3]\n",
      "key 'dims': dim 16 is not a multiple of 3 heads");
  has("family: resnet\nstages: []\n", "space.yaml:2: key 'stages': expected at least one value");
  has("family: lstm\nhidden: []\n", "space.yaml:2: key 'hidden': expected at least one value");
  has("family: transformer\nff: []\n", "space.yaml:2: key 'ff': expected at least one value");
  has("family: lstm\ninput: [1, 28, 28]\n",
      "space.yaml:2: key 'input': expected [T, F], each >= 1 (family lstm reads a sequence");
  has("family: resnet\ninput: [28, 28]\n", "space.yaml:2: key 'input': expected [C, H, W]");
  has("family: resnet\nstages: [5]\n", "key 'stages': value 5 out of range [1, 4]");
  has("family: resnet\nblocks_per_stage: [0, 1]\n",
      "key 'blocks_per_stage': value 0 out of range [1, 6]");
  has("family: lstm\nlayers: [1, 1]\n", "key 'layers': value 1 appears twice");
  has("family: transformer\nheads: [0]\n", "key 'heads': value 0 out of range [1, 256]");
  // A sequence family's input defaults to 28 rows of 28 features.
  CHECK(parse_text("family: lstm\n").input == std::vector<int64_t>{28, 28});
  CHECK(parse_text("family: transformer\n").input == std::vector<int64_t>{28, 28});
  CHECK(parse_text("family: resnet\n").input == std::vector<int64_t>{1, 28, 28});
}

// ---------------------------------------------------------------- jobs

namespace {

// A recipe for a tiny search over `space` (YAML lines indented by 4) on the
// sim meter: `data` and a reference `model` that fits it.
std::string job_recipe(const std::string& data, const std::string& model,
                       const std::string& space) {
  return "name: family_job\nmeter: sim\ndata: " + data + "\nmodel:\n" + model +
         "train: {iterations: 20, seed: 1}\n"
         "profile: {max_points: 3, iterations: 1, repeats: 1, warmup: 0, min_window: 0, "
         "min_warmup: 0, anchors: 1}\n"
         "measure: {iterations: 2, repeats: 1, warmup: 0, min_window: 0, min_warmup: 0}\n"
         "search:\n  budget_joules: 1.0e9\n  candidates: 2\n  batch: 2\n  threads: 2\n"
         "  population: 2\n  sample: 1\n  proxy: {iterations: 3, train_limit: 64, "
         "eval_samples: 32}\n  space:\n" +
         space;
}

const char* kImageModel =
    "  input: [1, 28, 28]\n  batch_size: 8\n  layers:\n    - conv: {out: 4, kernel: 3, padding: "
    "1}\n    - relu\n    - maxpool: 2\n    - flatten\n    - linear: {out: 10}\n";
const char* kSequenceModel =
    "  input: [28, 28]\n  layout: sequence\n  batch_size: 8\n  layers:\n"
    "    - lstm: {hidden: 8, layers: 1}\n    - last\n    - linear: {out: 10}\n";
// Fashion-MNIST, read as 28 rows of 28 features (scripts/test installs it).
const char* kRowData = "{dataset: fashion-mnist, train_limit: 128, test_limit: 64}";

void run_family_job(const std::string& recipe_text, Family family) {
  thor::testing::TempDir dir("family-job");
  { std::ofstream(dir.str("recipe.yaml")) << recipe_text; }
  SearchJobOptions o;
  o.recipe_path = dir.str("recipe.yaml");
  o.output = dir.str("out");
  o.profile_path = dir.str("profile.json");
  o.progress = false;
  const SearchJobResult r = run_search_job(o);
  REQUIRE_MESSAGE(r.status == SearchJobStatus::ok, r.message);
  REQUIRE(r.search.best);
  REQUIRE(r.final_run);
  const Genome& best = r.search.candidates[*r.search.best].genome;
  CHECK(best.family == family);
  CHECK(r.final_run->genome == best);
  CHECK(r.final_run->trained);
  CHECK(r.scan.exhaustive);
  CHECK(r.scan.feasible == r.scan.examined);
  // best.yaml is the winner's network (a sequence layout included).
  const Architecture winner = load_architecture(dir.str("out/best.yaml"));
  CHECK(winner == r.final_run->architecture);
  CHECK(winner.layers.size() == r.final_run->architecture.layers.size());
  // The checkpoint replays: a second run trains nothing again.
  const SearchJobResult again = run_search_job(o);
  REQUIRE(again.search.best);
  CHECK(again.search.candidates[*again.search.best].genome == best);
  CHECK(again.profile_reused);
}

}  // namespace

TEST_CASE("a resnet search runs end to end on the sim meter") {
  run_family_job(job_recipe("{dataset: random, train_limit: 64, test_limit: 32}", kImageModel,
                            "    family: resnet\n    input: [1, 28, 28]\n    batch_size: [8]\n"
                            "    stages: [1, 2]\n    blocks_per_stage: [1]\n    widths: [2, 4]\n"),
                 Family::resnet);
}

TEST_CASE("an lstm search runs end to end on the sim meter") {
  run_family_job(job_recipe(kRowData, kSequenceModel,
                            "    family: lstm\n    batch_size: [8]\n    layers: [1, 2]\n"
                            "    hidden: [4, 8]\n"),
                 Family::lstm);
}

TEST_CASE("a transformer search runs end to end on the sim meter") {
  run_family_job(job_recipe(kRowData, kSequenceModel,
                            "    family: transformer\n    batch_size: [8]\n    layers: [1]\n"
                            "    dims: [4, 8]\n    heads: [2]\n    ff: [8, 16]\n"),
                 Family::transformer);
}
