// One PNG per layer kind of a DeviceProfile: the model and its points.
#include "thor/profile_plots.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "plots_detail.hpp"
#include "thor/format.hpp"

namespace thor {

namespace {

// `s` as a gnuplot double-quoted string (where \n is a line break).
std::string dq(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '\n') {
      q += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

// Evenly spaced channel counts over [lo, hi]: every integer when there are at
// most `most` (stepped models show their steps), else `most` values.
std::vector<double> channel_grid(double lo, double hi, int most) {
  std::vector<double> g;
  if (hi - lo + 1 <= most) {
    for (double c = lo; c <= hi; c += 1.0) g.push_back(c);
  } else {
    for (int i = 0; i < most; ++i) g.push_back(lo + (hi - lo) * i / (most - 1));
  }
  return g;
}

// Half the spacing of channel_grid(lo, hi, kGrid2d): image pixels are
// centred on the grid, so the axes reach half a pixel past its ends.
constexpr int kGrid2d = 60;
double half_step(double lo, double hi) {
  return hi - lo + 1 <= kGrid2d ? 0.5 : 0.5 * (hi - lo) / (kGrid2d - 1);
}

// The channel range drawn for feature `f`: the kind's range and its points.
std::pair<double, double> feature_range(const KindModel& k, size_t f) {
  double lo = f < k.lower.size() ? static_cast<double>(k.lower[f]) : 1.0;
  double hi = f < k.upper.size() ? static_cast<double>(k.upper[f]) : lo;
  for (const auto& p : k.points) {
    lo = std::min(lo, p.features[f]);
    hi = std::max(hi, p.features[f]);
  }
  return {lo, std::max(hi, lo + 1.0)};
}

std::string title_of(const KindModel& k) {
  const std::string model = k.model.fitted() ? k.model.summary() : "no model fitted";
  return k.key + "\n" + std::to_string(k.points.size()) + " points; " + model;
}

std::string points_data(const KindModel& k) {
  std::ostringstream s;
  s << "# features..., derived J/iter, 2 std from its known noise\n";
  for (const auto& p : k.points) {
    for (double f : p.features) s << f << " ";
    s << p.derived << " " << 2.0 * std::sqrt(std::max(0.0, p.variance)) << "\n";
  }
  return s.str();
}

// Input blocks are described by C_out, output blocks by C_in.
void plot_1d(detail::GnuplotDrawing& d, std::ostringstream& gp, const KindModel& k,
             const std::string& png) {
  const auto [lo, hi] = feature_range(k, 0);
  const std::string pts = detail::gnuplot_quote(d.data(points_data(k)));
  gp << "set terminal " << d.terminal(900, 600)
     << "\nset termoption noenhanced\nset encoding utf8\n"
     << "set output " << detail::gnuplot_quote(d.png(png)) << "\n"
     << "set title " << dq(title_of(k)) << "\nset grid\nset key top left\n"
     << "set xlabel "
     << dq(k.role == BlockRole::input ? "C_out (output channels)" : "C_in (input channels)")
     << "\nset ylabel 'joules per training iteration'\n"
     << "set xrange [" << lo - 0.02 * (hi - lo) << ":" << hi + 0.02 * (hi - lo) << "]\n";
  gp << "plot ";
  if (k.model.fitted()) {
    std::ostringstream curve;
    curve << "# channels, mean, mean - 2 std, mean + 2 std\n";
    for (double c : channel_grid(lo, hi, 400)) {
      const gp::Prediction p = k.predict({c});
      curve << c << " " << p.mean << " " << p.mean - 2 * p.std() << " " << p.mean + 2 * p.std()
            << "\n";
    }
    const std::string cur = detail::gnuplot_quote(d.data(curve.str()));
    gp << cur << " using 1:3:4 with filledcurves fs solid 0.25 noborder lc rgb '#1f77b4' title "
       << "'model ±2σ', \\\n  " << cur
       << " using 1:2 with lines lw 2 lc rgb '#1f77b4' title 'model mean', \\\n  ";
  }
  gp << pts << " using 1:2:3 with yerrorbars pt 7 ps 1 lc rgb '#d62728' "
     << "title 'measured (derived) ±2σ'\n";
}

// A heat map of the mean and one of the relative std over (C_in, C_out).
void plot_2d(detail::GnuplotDrawing& d, std::ostringstream& gp, const KindModel& k,
             const std::string& png) {
  const auto [in_lo, in_hi] = feature_range(k, 0);
  const auto [out_lo, out_hi] = feature_range(k, 1);
  const std::string pts = detail::gnuplot_quote(d.data(points_data(k)));
  const std::string on_top = pts + " using 1:2 with points pt 7 ps 1.3 lc rgb 'white' notitle, " +
                             pts + " using 1:2 with points pt 6 ps 1.3 lc rgb 'black' title " +
                             "'measured points'";
  gp << "set terminal " << d.terminal(k.model.fitted() ? 1500 : 800, 650)
     << "\nset termoption noenhanced\nset encoding utf8\n"
     << "set output " << detail::gnuplot_quote(d.png(png)) << "\n"
     << "set xlabel 'C_in (input channels)'\nset ylabel 'C_out (output channels)'\n"
     << "set xrange [" << in_lo - half_step(in_lo, in_hi) << ":" << in_hi + half_step(in_lo, in_hi)
     << "]\nset yrange [" << out_lo - half_step(out_lo, out_hi) << ":"
     << out_hi + half_step(out_lo, out_hi) << "]\nset key opaque box top right\n"
     << "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 "
        "'#fde725')\n";
  if (!k.model.fitted()) {
    gp << "set title " << dq(title_of(k)) << "\nplot " << on_top << "\n";
    return;
  }
  std::ostringstream grid;
  grid << "# C_in, C_out, mean J/iter, relative std % (capped at 100)\n";
  for (double ci : channel_grid(in_lo, in_hi, kGrid2d)) {
    for (double co : channel_grid(out_lo, out_hi, kGrid2d)) {
      const gp::Prediction p = k.predict({ci, co});
      const double rel = 100.0 * p.std() / std::max(std::fabs(p.mean), 1e-300);
      grid << ci << " " << co << " " << p.mean << " " << std::min(rel, 100.0) << "\n";
    }
    grid << "\n";
  }
  const std::string g = detail::gnuplot_quote(d.data(grid.str()));
  gp << "set multiplot layout 1,2 title " << dq(title_of(k)) << "\n"
     << "set title 'model mean (J per training iteration)'\n"
     << "plot " << g << " using 1:2:3 with image notitle, " << on_top << "\n"
     << "set title 'model relative std (%)'\n"
     << "plot " << g << " using 1:2:4 with image notitle, " << on_top << "\n"
     << "unset multiplot\n";
}

}  // namespace

std::string kind_plot_name(size_t index, const std::string& key) {
  std::string clean;
  for (char c : key) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (ok)
      clean += c;
    else if (clean.empty() || clean.back() != '_')
      clean += '_';
  }
  while (!clean.empty() && (clean.back() == '_' || clean.back() == '.')) clean.pop_back();
  if (clean.size() > 120) clean.resize(120);
  return strf("%02zu-", index) + clean + ".png";
}

std::vector<std::string> write_profile_plots(const DeviceProfile& profile, const std::string& dir) {
  detail::GnuplotDrawing drawing(dir, "profile plots");
  std::ostringstream gp, index;
  gp << "# gnuplot script written by thor profile\n";
  index << "# file\tlayer kind key\n";
  std::vector<std::string> written;
  size_t i = 0;
  for (const auto& [key, kind] : profile.kinds) {
    const size_t n = i++;
    if (kind.points.empty()) continue;
    const size_t dims = kind.points.front().features.size();
    if (dims != 1 && dims != 2) continue;
    const std::string png = kind_plot_name(n, key);
    gp << "reset\n";
    if (dims == 1)
      plot_1d(drawing, gp, kind, png);
    else
      plot_2d(drawing, gp, kind, png);
    index << png << "\t" << key << "\n";
    written.push_back(drawing.path(png));
  }
  if (!written.empty()) drawing.draw(gp.str());
  written.push_back(drawing.path("index.txt"));
  write_file_atomic(written.back(), index.str());
  return written;
}

}  // namespace thor
