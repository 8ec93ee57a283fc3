#pragma once
// Internal to thor::search: helpers space.cpp and family_space.cpp share, and
// the part of SearchSpace and Genome that belongs to the block families
// (resnet, lstm, transformer). The cnn family stays in space.cpp, as it was
// before families existed, so that its results do not change.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "thor/error.hpp"
#include "thor/search/space.hpp"
#include "thor/yaml_util.hpp"

namespace thor::search::detail {

/// "1,2,3".
std::string join(const std::vector<int64_t>& v);

template <class T>
size_t index_of(const std::vector<T>& v, const T& x) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin());
}

template <class T>
bool holds(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

template <class T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// Another value of `v` than `current` (or current when there is none).
template <class T>
T other(const std::vector<T>& v, const T& current, Rng& rng) {
  if (v.size() < 2) return current;
  for (;;) {
    const T& x = pick(v, rng);
    if (!(x == current)) return x;
  }
}

/// A neighbouring value in the sorted list, or (one time in four) any value:
/// small steps let evolution climb, the jumps keep it from getting stuck.
int64_t step_value(const std::vector<int64_t>& sorted, int64_t current, Rng& rng);

/// What the space's messages call it; FieldErrors name fields as the recipe keys do.
const FieldRules& space_rules();

/// Every value of `v` in [min, max], at least one, none twice (FieldError naming `field`).
void check_list(const std::vector<int64_t>& v, const char* field, int64_t min, int64_t max);

/// A list, or a range {min, max, step} / {min, max, factor}; only the form is checked.
std::vector<int64_t> int_choices(const YamlCursor& c);

/// Fails (FieldError) when the space has more than 4096 structures (`what`
/// names their factors) or a skeleton is not a valid network.
void check_structures(const SearchSpace& s, const std::string& what);

/// One width choice of a genome: where it is and the values it may take.
struct WidthSlot {
  int64_t* value;
  const std::vector<int64_t>* choices;
};

// The block families. Each function takes a space whose family is not cnn
// (and, where it takes one, a genome of that family in the space).

/// Fails naming a key of `c` (a search.space map) that belongs to another
/// family, then any other unknown key.
void allow_family_keys(const YamlCursor& c, Family family);
/// Reads the family's keys (input defaults to [28, 28] for sequence families).
void parse_family(const YamlCursor& c, SearchSpace& s);
void validate_family(const SearchSpace& s);
Architecture build_family(const SearchSpace& s, const Genome& g);
bool contains_family(const SearchSpace& s, const Genome& g);
Genome sample_family(const SearchSpace& s, Rng& rng);
Genome mutate_family(const SearchSpace& s, const Genome& parent, Rng& rng);
Genome crossover_family(const SearchSpace& s, const Genome& a, const Genome& b, Rng& rng);
size_t num_structures_family(const SearchSpace& s);
size_t structure_index_family(const SearchSpace& s, const Genome& g);
std::vector<Genome> skeletons_family(const SearchSpace& s);
double size_family(const SearchSpace& s);
std::vector<WidthSlot> width_slots_family(const SearchSpace& s, Genome& g);
size_t fill_widths_family(const Genome& g, int64_t* out);
nlohmann::json space_json_family(const SearchSpace& s);

/// Genome::to_string, to_json and from_json of a genome of a block family.
std::string genome_text_family(const Genome& g);
nlohmann::json genome_json_family(const Genome& g);
/// Reads the fields of g.family from `j` (nlohmann exceptions propagate).
void genome_from_json_family(const nlohmann::json& j, Genome& g);

}  // namespace thor::search::detail
