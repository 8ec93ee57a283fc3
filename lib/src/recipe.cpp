#include "thor/recipe.hpp"

#include <filesystem>
#include <limits>

namespace thor {

std::string DataSpec::resolved_root() const {
  if (!root.empty()) return root;
  if (dataset == "fashion-mnist") return kFashionMnistDir;
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  if (dataset == "celeba") return "data/celeba";
  return "";
}

std::string Recipe::profile_path() const {
  if (!profile.cache.empty()) return profile.cache;
  return (std::filesystem::path(output) / "profile.json").string();
}

namespace {

constexpr int64_t kBig = std::numeric_limits<int32_t>::max();

void parse_measure(const YamlCursor& c, MeasureOptions& m) {
  c.allow_only({"iterations", "min_window", "min_warmup", "repeats", "warmup", "threads", "flush_denormal", "outlier_k",
                "busy_cores", "busy_retries", "pin_allocator"});
  m.iterations = c.get_int("iterations", m.iterations, 1, kBig);
  m.min_window_seconds = c.get_double("min_window", m.min_window_seconds, 0.0, 3600.0);
  m.min_warmup_seconds = c.get_double("min_warmup", m.min_warmup_seconds, 0.0, 3600.0);
  m.repeats = static_cast<int>(c.get_int("repeats", m.repeats, 1, 1000));
  m.warmup = c.get_int("warmup", m.warmup, 0, kBig);
  m.threads = static_cast<int>(c.get_int("threads", m.threads, 1, 1024));
  m.flush_denormal = c.get_bool("flush_denormal", m.flush_denormal);
  m.outlier_k = c.get_double("outlier_k", m.outlier_k, 0.5, 100.0);
  m.busy_cores = c.get_double("busy_cores", m.busy_cores, 0.01, 1024.0);
  m.busy_retries = static_cast<int>(c.get_int("busy_retries", m.busy_retries, 0, 100));
  m.pin_allocator = c.get_bool("pin_allocator", m.pin_allocator);
}

}  // namespace

Recipe load_recipe(const std::string& path) {
  const YamlCursor root = load_yaml_file(path);
  root.allow_only({"name", "device", "meter", "data", "model", "train", "profile", "measure", "prune", "search",
                   "output"});
  Recipe r;
  r.path = path;
  r.name = root.get_string("name", std::filesystem::path(path).stem().string());
  r.device = root.get_string("device", "cpu");
  if (r.device != "cpu" && r.device != "cuda") root.child("device").fail("expected cpu or cuda, got '" + r.device + "'");

  if (root.has("meter")) {
    const YamlCursor m = root.child("meter");
    if (m.is_scalar()) {
      r.meter = m.as_string();
    } else {
      m.allow_only({"name", "static_watts", "core_watts", "rail", "battery", "sample_period_s", "gpu_index"});
      r.meter = m.get_string("name", "auto");
      r.meter_options.static_watts = m.get_double("static_watts", r.meter_options.static_watts, 0.0, 1e4);
      r.meter_options.core_watts = m.get_double("core_watts", r.meter_options.core_watts, 1e-6, 1e4);
      r.meter_options.jetson_rail = m.get_string("rail", "");
      r.meter_options.battery_name = m.get_string("battery", "");
      r.meter_options.sample_period_s = m.get_double("sample_period_s", r.meter_options.sample_period_s, 1e-4, 10.0);
      r.meter_options.gpu_index = static_cast<int>(m.get_int("gpu_index", 0, 0, 64));
    }
  }

  if (root.has("data")) {
    const YamlCursor d = root.child("data");
    d.allow_only({"dataset", "root", "train_limit", "test_limit", "image_size", "attribute", "grayscale"});
    r.data.dataset = d.get_string("dataset", r.data.dataset);
    if (r.data.dataset != "fashion-mnist" && r.data.dataset != "mnist" && r.data.dataset != "celeba" &&
        r.data.dataset != "random")
      d.child("dataset").fail("expected fashion-mnist, mnist, celeba or random, got '" + r.data.dataset + "'");
    r.data.root = d.get_string("root", "");
    r.data.train_limit = d.get_int("train_limit", -1, -1, kBig);
    r.data.test_limit = d.get_int("test_limit", -1, -1, kBig);
    r.data.image_size = static_cast<int>(d.get_int("image_size", 64, 4, 1024));
    r.data.attribute = d.get_string("attribute", "Male");
    r.data.grayscale = d.get_bool("grayscale", false);
  }

  if (!root.has("model")) root.fail("missing 'model' (an architecture: input, batch_size, layers)");
  r.model = parse_architecture_cursor(root.child("model"));

  if (root.has("train")) {
    const YamlCursor t = root.child("train");
    t.allow_only({"optimizer", "lr", "momentum", "weight_decay", "iterations", "seed", "record_every"});
    r.train.optimizer = t.get_string("optimizer", r.train.optimizer);
    if (r.train.optimizer != "sgd" && r.train.optimizer != "adam")
      t.child("optimizer").fail("expected sgd or adam, got '" + r.train.optimizer + "'");
    r.train.lr = t.get_double("lr", r.train.lr, 1e-8, 10.0);
    r.train.momentum = t.get_double("momentum", r.train.momentum, 0.0, 0.999);
    r.train.weight_decay = t.get_double("weight_decay", r.train.weight_decay, 0.0, 1.0);
    r.train.iterations = t.get_int("iterations", r.train.iterations, 1, kBig);
    r.train.seed = static_cast<uint64_t>(t.get_int("seed", 1, 0, kBig));
    r.train.record_every = t.get_int("record_every", r.train.record_every, 0, kBig);
  }

  // Profiling uses the protocol's defaults, as measuring does (comparable figures).
  if (root.has("profile")) {
    const YamlCursor p = root.child("profile");
    p.allow_only({"max_points", "min_points", "std_fraction", "loo_fraction", "anchors", "time_budget", "iterations",
                  "min_window", "min_warmup", "repeats", "warmup", "threads", "cache"});
    r.profile.max_points = static_cast<int>(p.get_int("max_points", r.profile.max_points, 2, 1000));
    r.profile.min_points = static_cast<int>(p.get_int("min_points", r.profile.min_points, 2, 1000));
    r.profile.std_fraction = p.get_double("std_fraction", r.profile.std_fraction, 1e-6, 0.99);
    r.profile.loo_fraction = p.get_double("loo_fraction", r.profile.loo_fraction, 1e-6, 0.99);
    r.profile.anchors = static_cast<int>(p.get_int("anchors", r.profile.anchors, 0, 100));
    r.profile.time_budget_s = p.get_double("time_budget", 0.0, 0.0, 1e7);
    r.profile.measure.min_window_seconds =
        p.get_double("min_window", r.profile.measure.min_window_seconds, 0.0, 3600.0);
    r.profile.measure.min_warmup_seconds =
        p.get_double("min_warmup", r.profile.measure.min_warmup_seconds, 0.0, 3600.0);
    r.profile.measure.iterations = p.get_int("iterations", r.profile.measure.iterations, 1, kBig);
    r.profile.measure.repeats = static_cast<int>(p.get_int("repeats", r.profile.measure.repeats, 1, 1000));
    r.profile.measure.warmup = p.get_int("warmup", r.profile.measure.warmup, 0, kBig);
    r.profile.measure.threads = static_cast<int>(p.get_int("threads", 1, 1, 1024));
    r.profile.cache = p.get_string("cache", "");
  }
  r.profile.measure.device = r.device;
  if (root.has("measure")) parse_measure(root.child("measure"), r.measure);
  r.measure.device = r.device;
  r.measure.threads = r.profile.measure.threads;
  r.output = root.get_string("output", "out/" + r.name);
  if (root.has("prune")) r.prune = root.child("prune");
  if (root.has("search")) r.search = root.child("search");
  r.meter_options.validate();
  return r;
}

Dataset load_training_data(const std::string& name) {
  if (name != "fashion-mnist" && name != "mnist")
    throw InputError("--data '" + name + "': expected fashion-mnist or mnist (other data sets through a recipe)");
  return load_mnist_folder(DataSpec{name}.resolved_root(), Split::train);
}

std::pair<Dataset, Dataset> load_recipe_data(const DataSpec& d) {
  if (d.dataset == "celeba") {
    CelebAOptions o;
    o.root = d.resolved_root();
    o.attribute = d.attribute;
    o.image_size = d.image_size;
    o.grayscale = d.grayscale;
    o.split = Split::train;
    o.limit = d.train_limit;
    Dataset train = load_celeba(o);
    o.split = Split::test;
    o.limit = d.test_limit;
    return {std::move(train), load_celeba(o)};
  }
  if (d.dataset == "random") {
    return {random_dataset({1, 28, 28}, d.train_limit > 0 ? d.train_limit : 512, 10, 1),
            random_dataset({1, 28, 28}, d.test_limit > 0 ? d.test_limit : 128, 10, 2)};
  }
  return {load_mnist_folder(d.resolved_root(), Split::train, d.train_limit),
          load_mnist_folder(d.resolved_root(), Split::test, d.test_limit)};
}

}  // namespace thor
