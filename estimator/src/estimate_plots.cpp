// The estimated-vs-measured scatter of `estimate --measure --plot`.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "plots_detail.hpp"
#include "thor/estimate_report.hpp"
#include "thor/format.hpp"

namespace thor {

namespace {

// A name as one double-quoted gnuplot data field.
std::string data_label(const std::string& name) {
  std::string s = name;
  std::replace(s.begin(), s.end(), '"', '\'');
  return "\"" + s + "\"";
}

}  // namespace

void write_scatter_plot(const std::vector<BatchRow>& rows, const std::string& png_path,
                        EnergyKind kind) {
  if (rows.empty()) throw InputError("estimate --plot: no architectures to draw");
  for (const auto& r : rows)
    if (!r.measurement)
      throw InputError("estimate --plot: '" + r.name +
                       "' has no measurement (--plot needs --measure)");
  // Values that set the axes: the points and the ends of their bars.
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  double bar_floor = std::numeric_limits<double>::infinity();
  std::ostringstream dat;
  dat << "# name, measured J/iter, its 2 std of the median, estimated J/iter, its 2 sigma\n";
  for (const auto& r : rows) {
    const double m = r.measurement->joules_per_iteration, e = r.estimate.joules_per_iteration;
    const double m2 = 2.0 * std::sqrt(r.measurement->median_variance()), e2 = 2.0 * r.estimate.std;
    dat << data_label(r.name) << " " << m << " " << m2 << " " << e << " " << e2 << "\n";
    for (double v : {m, e})
      if (v > 0) lo = std::min(lo, v);
    hi = std::max({hi, m + m2, e + e2});
    bar_floor = std::min({bar_floor, m - m2, e - e2});
  }
  if (!(hi > 0) || !std::isfinite(lo))
    throw InputError("estimate --plot: no positive joules to draw");
  const bool log_axes = hi / lo > 10.0;
  // The same range on both axes, so that y = x is the diagonal.
  const double pad = std::max(0.08 * (hi - bar_floor), 0.05 * hi);
  const double from = log_axes ? lo / 1.5 : std::max(0.0, bar_floor - pad);
  const double to = log_axes ? hi * 2.5 : hi + pad;  // room for the labels on the right

  const std::filesystem::path target(png_path);
  detail::GnuplotDrawing drawing(target.parent_path().string(), "estimate --plot");
  const BatchSummary summary = summarize_batch(rows);
  std::ostringstream gp;
  gp << "# gnuplot script written by thor estimate\n"
     << "set terminal " << drawing.terminal(900, 800)
     << "\nset termoption noenhanced\nset encoding utf8\n"
     << "set output " << detail::gnuplot_quote(drawing.png(target.filename().string())) << "\n"
     << "set title \"Estimated vs measured training energy (" << to_string(kind) << ")\\n"
     << summary.line() << "\"\nset xlabel 'measured joules per iteration'\n"
     << "set ylabel 'estimated joules per iteration (±2σ)'\n"
     << "set grid\nset key top left\nset size ratio -1\n"
     << "set xrange [" << from << ":" << to << "]\nset yrange [" << from << ":" << to << "]\n";
  if (log_axes) gp << "set logscale xy\nset samples 200\n";
  const std::string d = detail::gnuplot_quote(drawing.data(dat.str()));
  // log axes: a bar reaching zero or below is cut at the range's floor.
  const auto bar_lo = [&](const char* v, const char* s) {
    return log_axes ? strf("(%s-%s > %g ? %s-%s : %g)", v, s, from, v, s, from)
                    : strf("(%s-%s)", v, s);
  };
  gp << "plot x with lines dt 2 lw 1.5 lc rgb '#7f7f7f' title 'y = x', \\\n"
     << "  " << d << " using 2:4:" << bar_lo("$2", "$3") << ":($2+$3):" << bar_lo("$4", "$5")
     << ":($4+$5) with xyerrorbars pt 7 ps 1.2 lc rgb '#1f77b4' title 'architectures', \\\n"
     << "  " << d << " using 2:4:1 with labels left offset char 0.8,0.6 font ',9' notitle\n";
  drawing.draw(gp.str());
}

}  // namespace thor
