// Search space YAML (parse_space on a YamlCursor): loads or ends in one
// InputError naming the file. A space that loads is valid, so sampling,
// mutating, crossing over and building its networks must work.
#include <cstdint>
#include <string>

#include "fuzz_common.hpp"
#include "thor/search/space.hpp"

namespace {

using thor::fuzz::finding;
using thor::search::Genome;
using thor::search::SearchSpace;

// Builds g's network and checks that it is valid and in the space.
void check_point(const SearchSpace& s, const Genome& g) {
  if (!s.contains(g)) finding("a point outside the space: " + g.to_string());
  if (s.structure_index(g) >= s.num_structures()) finding("structure_index out of range");
  s.build(g).validate();
}

void check_loaded(const SearchSpace& s) {
  try {
    if (!(s.size() >= 1)) finding("a valid space with no point");
    const auto skeletons = s.skeletons();
    if (skeletons.size() != s.num_structures()) finding("one skeleton per structure expected");
    for (const auto& g : skeletons) check_point(s, g);
    thor::search::Rng rng(1);
    Genome a = s.sample(rng), b = s.sample(rng);
    for (int i = 0; i < 8; ++i) {
      check_point(s, a);
      b = s.mutate(b, rng);
      check_point(s, b);
      a = s.crossover(a, b, rng);
    }
    if (Genome::from_json(a.to_json(), "genome") != a) finding("Genome JSON round trip");
    (void)s.fingerprint();
  } catch (const std::exception& e) {
    finding("a loaded space fails later: " + thor::fuzz::type_name(e) + ": " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  SearchSpace space;
  if (thor::fuzz::loads_or_input_error(
          [&] { space = thor::search::parse_space(thor::load_yaml_text(text, "space.yaml")); },
          "space.yaml"))
    check_loaded(space);
  return 0;
}
