// Recipe YAML (load_recipe), then the prune section (parse_prune_options) and
// the search section (parse_search_recipe) of what loads, and the file read
// as an architecture (load_architecture takes a recipe's `model:`). Each step
// works or ends in one InputError naming the file.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/pruner/options.hpp"
#include "thor/recipe.hpp"
#include "thor/search/search.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using thor::fuzz::loads_or_input_error;
  const std::string path = (thor::fuzz::scratch() / "recipe.yaml").string();
  thor::fuzz::write_bytes(path, data, size);
  loads_or_input_error([&] { (void)thor::load_architecture(path); }, path);
  thor::Recipe recipe;
  if (!loads_or_input_error([&] { recipe = thor::load_recipe(path); }, path)) return 0;
  loads_or_input_error([&] { (void)recipe.profile_path(); }, "");
  loads_or_input_error([&] { (void)thor::pruner::parse_prune_options(recipe); }, path);
  loads_or_input_error([&] { (void)thor::search::parse_search_recipe(recipe); }, path);
  return 0;
}
