// bench_additivity: the paper's Fig. 2 check on this machine. Starting from
// an input layer and an output linear layer, add identical hidden layers
// (or blocks) one at a time and measure each network with the protocol.
// Additivity holds when every added layer costs about the same (the
// increments are flat); a layer whose cost depends on its neighbours shows
// as a first increment unlike the rest.
//   bench_additivity [--meter M] [--max-layers N] [--family conv|residual|lstm|encoder]
#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "thor/protocol.hpp"

using namespace thor;

namespace {

// The network with `n` identical hidden layers of `family`, and its description.
Architecture network(const std::string& family, int n, std::string& what) {
  Architecture a;
  a.batch_size = 32;
  const Layer relu = Layer::simple(LayerType::relu);
  if (family == "residual") {
    what = "identical residual(16) blocks after conv(16,k3,p1)+BN+ReLU on [1,28,28]";
    a.input = {1, 28, 28};
    a.layers = {Layer::conv(16, 3, 1, 1), Layer::simple(LayerType::batchnorm), relu};
    for (int k = 0; k < n; ++k) a.layers.push_back(Layer::residual(16));
    a.layers.push_back(Layer::simple(LayerType::global_avgpool));
  } else if (family == "lstm") {
    what = "identical lstm(64) layers after lstm(64) on [28,28] sequences";
    a.input = {28, 28};
    a.layout = Architecture::InputLayout::sequence;
    for (int k = 0; k <= n; ++k) a.layers.push_back(Layer::lstm(64));
    a.layers.push_back(Layer::simple(LayerType::last));
  } else if (family == "encoder") {
    what = "identical encoder(h4,ff128) layers after linear(64) on [28,28] sequences";
    a.input = {28, 28};
    a.layout = Architecture::InputLayout::sequence;
    a.layers = {Layer::linear(64)};
    for (int k = 0; k < n; ++k) a.layers.push_back(Layer::encoder(4, 128));
    a.layers.push_back(Layer::simple(LayerType::global_avgpool));
  } else {
    what = "identical conv(16,k3,p1)+relu layers on [1,28,28]";
    a.input = {1, 28, 28};
    a.layers = {Layer::conv(16, 3, 1, 1), relu};
    for (int k = 0; k < n; ++k) {
      a.layers.push_back(Layer::conv(16, 3, 1, 1));
      a.layers.push_back(relu);
    }
    a.layers.push_back(Layer::simple(LayerType::flatten));
  }
  a.layers.push_back(Layer::linear(10));
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  std::string meter_name = "cpu-model", family = "conv";
  int max_layers = 6;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--meter") meter_name = argv[i + 1];
    if (k == "--max-layers") max_layers = std::atoi(argv[i + 1]);
    if (k == "--family") family = argv[i + 1];
  }
  MeterOptions mo;
  auto meter = make_meter(meter_name, mo);
  MeasureOptions m;
  m.iterations = 30;
  m.repeats = 5;
  std::string what;
  network(family, 0, what);
  std::cout << what << ", batch 32 (" << meter->describe() << ")\n"
            << std::setw(8) << "hidden" << std::setw(14) << "J/iter" << std::setw(14) << "increment"
            << std::setw(10) << "cv"
            << "\n";
  double previous = 0.0;
  std::vector<double> increments;
  for (int n = 0; n <= max_layers; ++n) {
    const Architecture a = network(family, n, what);
    const Measurement r = measure_training(a, *meter, m);
    std::cout << std::setw(8) << n << std::setw(14) << std::setprecision(5)
              << r.joules_per_iteration;
    if (n > 0) {
      increments.push_back(r.joules_per_iteration - previous);
      std::cout << std::setw(14) << increments.back();
    } else {
      std::cout << std::setw(14) << "-";
    }
    std::cout << std::setw(9) << std::setprecision(2) << 100 * r.cv << "%\n";
    previous = r.joules_per_iteration;
  }
  double lo = increments[0], hi = increments[0];
  for (double x : increments) lo = std::min(lo, x), hi = std::max(hi, x);
  std::cout << "increments span " << std::setprecision(3) << lo << " .. " << hi << " J (max/min "
            << hi / lo << "); median increment " << median(increments) << " J\n";
  return 0;
}
