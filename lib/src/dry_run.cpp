#include "thor/dry_run.hpp"

#include <algorithm>

#include "thor/format.hpp"
#include "thor/progress.hpp"

namespace thor {

double DryRunPlan::low_s() const {
  double s = 0;
  for (const auto& st : steps) s += st.low_s;
  return s;
}

double DryRunPlan::high_s() const {
  double s = 0;
  for (const auto& st : steps) s += st.high_s;
  return s;
}

void DryRunPlan::warn_if_busy(double foreign_load, double busy_cores, int retries) {
  if (!(foreign_load > busy_cores)) return;
  warnings.push_back(
      strf("other processes kept %.1f cores busy while the paces were taken: the protocol retakes "
           "each window up to %d times on a busy machine, and the forecast counts them; measured "
           "energies will be more reliable on an idle machine",
           foreign_load, retries));
}

std::string DryRunPlan::report() const {
  std::string out = program + " --dry-run: nothing was written\n";
  for (const auto& c : checks) out += "  ok    " + c + "\n";
  for (const auto& n : notes) out += "  plan  " + n + "\n";
  for (const auto& w : warnings) out += "  warn  " + w + "\n";
  out += "steps (wall time on this machine, from the paces just measured):\n";
  for (const auto& st : steps) {
    const std::string range = st.high_s - st.low_s > 0.5
                                  ? human_duration(st.low_s) + " – " + human_duration(st.high_s)
                                  : human_duration(st.high_s);
    out += strf("  %-58s %s\n", st.what.c_str(), range.c_str());
  }
  out += strf("expected wall time: %s (%s – %s)\n", human_duration(expected_s()).c_str(),
              human_duration(low_s()).c_str(), human_duration(high_s()).c_str());
  out += strf("expected energy of the job itself: %s (%s at %.1f W, %s)\n",
              joules_text(expected_joules()).c_str(), human_duration(expected_s()).c_str(), watts,
              energy_kind.c_str());
  return out;
}

}  // namespace thor
