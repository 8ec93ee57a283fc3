#pragma once
/// \file
/// Recipes: one YAML file that says what to train on which data, how to
/// measure and profile, and what a job (prune, search) should do. Every key
/// is documented in recipes/README.md; an unknown key, a wrong type or an
/// out-of-range value is an InputError naming the file, line and key. The
/// parser only maps keys to fields and checks types; every rule on a value
/// is in a validate() (these structs', or the options structs' they hold),
/// whose FieldErrors YamlCursor::validate_with reports at the key's line.
#include <optional>
#include <string>

#include "thor/architecture.hpp"
#include "thor/dataset.hpp"
#include "thor/meter.hpp"
#include "thor/protocol.hpp"
#include "thor/train.hpp"
#include "thor/yaml_util.hpp"

namespace thor {

/// `data:` — which dataset and how much of it.
struct DataSpec {
  std::string dataset =
      "fashion-mnist";             ///< fashion-mnist, mnist, celeba, har, har-generated, random
  std::string root;                ///< folder; default per dataset
  int64_t train_limit = -1;        ///< at most this many training samples (< 0: all)
  int64_t test_limit = -1;         ///< at most this many test samples
  int image_size = 64;             ///< celeba: side after resizing
  std::string attribute = "Male";  ///< celeba: label attribute
  bool grayscale = false;          ///< celeba: one channel
  /// The folder used: `root`, or the dataset's default.
  std::string resolved_root() const;
  /// Throws FieldError naming the field, its value and the rule.
  void validate() const;
};

/// `profile:` — guided profiling settings (see thor::ProfilerOptions).
struct ProfileSpec {
  int max_points = 12;         ///< most measured points per 1-D layer kind, in [2, 1000]
  int min_points = 5;          ///< no kind stops before this many points, in [2, 1000]
  double std_fraction = 0.03;  ///< stopping rule: predicted std / energy, in [1e-6, 0.99]
  double loo_fraction = 0.04;  ///< stopping rule: leave-one-out error, in [1e-6, 0.99]
  int anchors = 4;             ///< whole networks measured after the kinds, in [0, 100]
  double time_budget_s = 0.0;  ///< seconds, in [0, 1e7]; 0: none
  MeasureOptions measure;      ///< iterations, repeats, warmup, threads for variants
  std::string cache;           ///< profile JSON reused when made under the same settings
  /// Throws FieldError naming the field ("max_points", "measure.repeats"),
  /// its value and the rule.
  void validate() const;
};

struct Recipe {
  std::string path;  ///< the file it came from
  std::string name;
  std::string device = "cpu";
  std::string meter = "auto";
  MeterOptions meter_options;
  DataSpec data;
  Architecture model;
  TrainOptions train;
  ProfileSpec profile;
  MeasureOptions measure;  ///< protocol for measuring baseline and results
  std::string output;      ///< output folder
  YamlCursor model_key;    ///< the `model:` key, for rules checked later (e.g. by the pruner)
  YamlCursor prune;        ///< the `prune:` section, parsed by the pruner
  YamlCursor search;       ///< the `search:` section, parsed by the search

  /// Where the profile of this recipe is cached.
  std::string profile_path() const;
  /// The rules of every section but prune and search (those are parsed by
  /// their programs): device, meter_options, data, train (whose run needs
  /// iterations >= 1), profile, measure. Throws FieldError naming the field
  /// by its path in this struct ("train.lr", "profile.measure.repeats").
  void validate() const;
};

/// Loads and validates a recipe. Relative paths inside stay as written.
Recipe load_recipe(const std::string& path);

/// The training split of a data set named on a command line (`--data`):
/// fashion-mnist or mnist from Debian's default folders (read as 28 rows of
/// 28 features when `input` is [28, 28]), har (the UCI HAR Dataset under
/// data/) or har-generated (HAR-shaped windows, marked as generated). Any
/// other name is an InputError naming the flag, the value and the names
/// accepted.
Dataset load_training_data(const std::string& name, const std::vector<int64_t>& input = {});

/// Loads the recipe's train and test sets (limits applied), fitted to the
/// model's `input` as load_training_data does. Missing files are
/// InputErrors naming what was looked for.
std::pair<Dataset, Dataset> load_recipe_data(const DataSpec& data,
                                             const std::vector<int64_t>& input = {});

/// One-channel images [1, H, W] read as sequences of H rows when the
/// model's input is [H, W] (sequential MNIST); other data as it is.
Dataset fit_to_input(Dataset data, const std::vector<int64_t>& input);

}  // namespace thor
