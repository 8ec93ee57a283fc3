// Parses an architecture and fits a GP through thor's installed headers.
#include <iostream>

#include "thor/architecture.hpp"
#include "thor/gp/gp.hpp"
#include "thor/layer_kind.hpp"

int main() {
  const thor::Architecture a = thor::architecture_from_yaml_text(
      "input: [1, 28, 28]\nlayers:\n  - conv: {out: 4, kernel: 3}\n  - relu\n  - flatten\n  - "
      "linear: {out: 10}\n");
  Eigen::MatrixXd X(4, 1);
  X << 1, 2, 3, 4;
  Eigen::VectorXd y(4);
  y << 1.0, 2.1, 2.9, 4.2;
  thor::gp::GaussianProcess gp;
  gp.fit(X, y);
  std::cout << "blocks " << thor::split_blocks(a).size() << " flops " << a.train_flops()
            << " gp(2.5) " << gp.predict_mean(Eigen::VectorXd::Constant(1, 2.5)) << "\n";
  return thor::split_blocks(a).size() == 2 ? 0 : 1;
}
