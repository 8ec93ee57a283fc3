#include "thor/recipe.hpp"

#include <filesystem>

namespace thor {

std::string DataSpec::resolved_root() const {
  if (!root.empty()) return root;
  if (dataset == "fashion-mnist") return kFashionMnistDir;
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  if (dataset == "celeba") return "data/celeba";
  if (dataset == "har") return "data/UCI HAR Dataset";
  return "";
}

std::string Recipe::profile_path() const {
  if (!profile.cache.empty()) return profile.cache;
  return (std::filesystem::path(output) / "profile.json").string();
}

void DataSpec::validate() const {
  const FieldRules f("data");
  f.require(dataset == "fashion-mnist" || dataset == "mnist" || dataset == "celeba" ||
                dataset == "har" || dataset == "har-generated" || dataset == "random",
            "dataset", "'" + dataset + "'",
            "expected fashion-mnist, mnist, celeba, har, har-generated or random");
  f.count("train_limit", train_limit, -1);
  f.count("test_limit", test_limit, -1);
  f.count("image_size", image_size, 4, 1024);
}

void ProfileSpec::validate() const {
  const FieldRules f("profile");
  f.count("max_points", max_points, 2, 1000);
  f.count("min_points", min_points, 2, 1000);
  f.number("std_fraction", std_fraction, 1e-6, 0.99);
  f.number("loo_fraction", loo_fraction, 1e-6, 0.99);
  f.count("anchors", anchors, 0, 100);
  f.number("time_budget_s", time_budget_s, 0.0, 1e7);
  f.nested("measure", [&] { measure.validate(); });
}

void Recipe::validate() const {
  const FieldRules f("recipe");
  f.require(device == "cpu" || device == "cuda", "device", "'" + device + "'",
            "expected cpu or cuda");
  f.nested("meter_options", [&] { meter_options.validate(); });
  f.nested("data", [&] { data.validate(); });
  f.nested("train", [&] { train.validate(); });
  // The recipe's baseline run; TrainOptions alone allows 0 (a no-op fine-tune).
  f.count("train.iterations", train.iterations, 1);
  f.nested("profile", [&] { profile.validate(); });
  f.nested("measure", [&] { measure.validate(); });
}

namespace {

void parse_measure(const YamlCursor& c, MeasureOptions& m) {
  c.allow_only({"iterations", "min_window", "min_warmup", "repeats", "warmup", "threads",
                "flush_denormal", "outlier_k", "busy_cores", "busy_retries", "pin_allocator"});
  m.iterations = c.get_int("iterations", m.iterations);
  m.min_window_seconds = c.get_double("min_window", m.min_window_seconds);
  m.min_warmup_seconds = c.get_double("min_warmup", m.min_warmup_seconds);
  m.repeats = c.get_int32("repeats", m.repeats);
  m.warmup = c.get_int("warmup", m.warmup);
  m.threads = c.get_int32("threads", m.threads);
  m.flush_denormal = c.get_bool("flush_denormal", m.flush_denormal);
  m.outlier_k = c.get_double("outlier_k", m.outlier_k);
  m.busy_cores = c.get_double("busy_cores", m.busy_cores);
  m.busy_retries = c.get_int32("busy_retries", m.busy_retries);
  m.pin_allocator = c.get_bool("pin_allocator", m.pin_allocator);
}

}  // namespace

Recipe load_recipe(const std::string& path) {
  const YamlCursor root = load_yaml_file(path);
  root.allow_only({"name", "device", "meter", "data", "model", "train", "profile", "measure",
                   "prune", "search", "output"});
  Recipe r;
  r.path = path;
  r.name = root.get_string("name", std::filesystem::path(path).stem().string());
  r.device = root.get_string("device", r.device);

  if (root.has("meter")) {
    const YamlCursor m = root.child("meter");
    if (m.is_scalar()) {
      r.meter = m.as_string();
    } else {
      m.allow_only({"name", "static_watts", "core_watts", "rail", "battery", "sample_period_s",
                    "gpu_index"});
      r.meter = m.get_string("name", "auto");
      r.meter_options.static_watts = m.get_double("static_watts", r.meter_options.static_watts);
      r.meter_options.core_watts = m.get_double("core_watts", r.meter_options.core_watts);
      r.meter_options.jetson_rail = m.get_string("rail", "");
      r.meter_options.battery_name = m.get_string("battery", "");
      r.meter_options.sample_period_s =
          m.get_double("sample_period_s", r.meter_options.sample_period_s);
      r.meter_options.gpu_index = m.get_int32("gpu_index", r.meter_options.gpu_index);
    }
  }

  if (root.has("data")) {
    const YamlCursor d = root.child("data");
    d.allow_only(
        {"dataset", "root", "train_limit", "test_limit", "image_size", "attribute", "grayscale"});
    r.data.dataset = d.get_string("dataset", r.data.dataset);
    r.data.root = d.get_string("root", r.data.root);
    r.data.train_limit = d.get_int("train_limit", r.data.train_limit);
    r.data.test_limit = d.get_int("test_limit", r.data.test_limit);
    r.data.image_size = d.get_int32("image_size", r.data.image_size);
    r.data.attribute = d.get_string("attribute", r.data.attribute);
    r.data.grayscale = d.get_bool("grayscale", r.data.grayscale);
  }

  if (!root.has("model")) root.fail("missing 'model' (an architecture: input, batch_size, layers)");
  r.model = parse_architecture_cursor(root.child("model"));

  if (root.has("train")) {
    const YamlCursor t = root.child("train");
    t.allow_only(
        {"optimizer", "lr", "momentum", "weight_decay", "iterations", "seed", "record_every"});
    r.train.optimizer = t.get_string("optimizer", r.train.optimizer);
    r.train.lr = t.get_double("lr", r.train.lr);
    r.train.momentum = t.get_double("momentum", r.train.momentum);
    r.train.weight_decay = t.get_double("weight_decay", r.train.weight_decay);
    r.train.iterations = t.get_int("iterations", r.train.iterations);
    r.train.seed = t.get_uint("seed", r.train.seed);
    r.train.record_every = t.get_int("record_every", r.train.record_every);
  }

  // Profiling uses the protocol's defaults, as measuring does (comparable figures).
  if (root.has("profile")) {
    const YamlCursor p = root.child("profile");
    p.allow_only({"max_points", "min_points", "std_fraction", "loo_fraction", "anchors",
                  "time_budget", "iterations", "min_window", "min_warmup", "repeats", "warmup",
                  "threads", "cache"});
    r.profile.max_points = p.get_int32("max_points", r.profile.max_points);
    r.profile.min_points = p.get_int32("min_points", r.profile.min_points);
    r.profile.std_fraction = p.get_double("std_fraction", r.profile.std_fraction);
    r.profile.loo_fraction = p.get_double("loo_fraction", r.profile.loo_fraction);
    r.profile.anchors = p.get_int32("anchors", r.profile.anchors);
    r.profile.time_budget_s = p.get_double("time_budget", r.profile.time_budget_s);
    r.profile.measure.min_window_seconds =
        p.get_double("min_window", r.profile.measure.min_window_seconds);
    r.profile.measure.min_warmup_seconds =
        p.get_double("min_warmup", r.profile.measure.min_warmup_seconds);
    r.profile.measure.iterations = p.get_int("iterations", r.profile.measure.iterations);
    r.profile.measure.repeats = p.get_int32("repeats", r.profile.measure.repeats);
    r.profile.measure.warmup = p.get_int("warmup", r.profile.measure.warmup);
    r.profile.measure.threads = p.get_int32("threads", r.profile.measure.threads);
    r.profile.cache = p.get_string("cache", "");
  }
  r.profile.measure.device = r.device;
  if (root.has("measure")) parse_measure(root.child("measure"), r.measure);
  r.measure.device = r.device;
  r.measure.threads = r.profile.measure.threads;
  r.output = root.get_string("output", "out/" + r.name);
  r.model_key = root.child("model");
  if (root.has("prune")) r.prune = root.child("prune");
  if (root.has("search")) r.search = root.child("search");
  // Recipe keys of the Recipe fields spelt otherwise.
  root.validate_with([&] { r.validate(); },
                     {{"meter_options.jetson_rail", "meter.rail"},
                      {"meter_options.battery_name", "meter.battery"},
                      {"meter_options", "meter"},
                      {"profile.time_budget_s", "profile.time_budget"},
                      {"profile.measure.min_window_seconds", "profile.min_window"},
                      {"profile.measure.min_warmup_seconds", "profile.min_warmup"},
                      {"profile.measure", "profile"},
                      {"measure.min_window_seconds", "measure.min_window"},
                      {"measure.min_warmup_seconds", "measure.min_warmup"}});
  return r;
}

Dataset fit_to_input(Dataset data, const std::vector<int64_t>& input) {
  const auto& s = data.sample_shape;
  if (input.size() == 2 && s.size() == 3 && s[0] == 1 && s[1] == input[0] && s[2] == input[1])
    return rows_as_sequences(data);
  return data;
}

Dataset load_training_data(const std::string& given, const std::vector<int64_t>& input) {
  // A profile records what it was fed by the data set's own name.
  std::string name = given;
  if (name.rfind("uci-har", 0) == 0) name = "har";
  if (name.rfind("har-shaped", 0) == 0) name = "har-generated";
  if (name == "har" || name == "har-generated") return load_recipe_data(DataSpec{name}).first;
  if (name != "fashion-mnist" && name != "mnist")
    throw InputError("--data '" + name +
                     "': expected fashion-mnist, mnist, har or har-generated (other data sets "
                     "through a recipe)");
  return fit_to_input(load_mnist_folder(DataSpec{name}.resolved_root(), Split::train), input);
}

std::pair<Dataset, Dataset> load_recipe_data(const DataSpec& d, const std::vector<int64_t>& input) {
  if (d.dataset == "har") {
    HarOptions o{d.resolved_root(), Split::train, d.train_limit};
    Dataset train = load_uci_har(o);
    o.split = Split::test;
    o.limit = d.test_limit;
    return {std::move(train), load_uci_har(o)};
  }
  if (d.dataset == "har-generated")  // energy does not depend on the values (marked as generated)
    return {generated_har_windows(d.train_limit > 0 ? d.train_limit : 2048, 1),
            generated_har_windows(d.test_limit > 0 ? d.test_limit : 512, 2)};
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
  return {fit_to_input(load_mnist_folder(d.resolved_root(), Split::train, d.train_limit), input),
          fit_to_input(load_mnist_folder(d.resolved_root(), Split::test, d.test_limit), input)};
}

}  // namespace thor
