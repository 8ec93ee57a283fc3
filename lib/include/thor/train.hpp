#pragma once
/// \file
/// LibTorch models built from an Architecture, trained on a Dataset. This
/// header is torch-free; the implementation lives in one translation unit.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "thor/architecture.hpp"
#include "thor/dataset.hpp"

namespace thor {

/// How to train.
struct TrainOptions {
  std::string optimizer = "sgd";  ///< "sgd" (with momentum) or "adam"
  double lr = 0.05;               ///< learning rate
  double momentum = 0.9;          ///< sgd only
  double weight_decay = 0.0;
  int64_t iterations = 200;     ///< optimizer steps (batches)
  uint64_t seed = 1;            ///< shuffling order (weights are seeded at construction)
  int64_t record_every = 0;     ///< > 0: record loss/accuracy every this many steps
  int64_t eval_samples = 1000;  ///< samples of the eval set used for curve points
  /// Throws InputError naming the field, its value and the rule.
  void validate() const;
};

struct CurvePoint {
  int64_t iteration = 0;
  double loss = 0.0;      ///< mean training loss since the previous point
  double accuracy = 0.0;  ///< on the eval set (or -1 if none)
};

struct TrainResult {
  double final_loss = 0.0;  ///< mean loss of the last 10% of steps
  double seconds = 0.0;
  std::vector<CurvePoint> curve;
};

/// What the training step has been fed so far: how many batches and the
/// sum of their mean input values. The `sim` meter reads it so that tests can
/// show that two loops fed the same data cost the same.
struct FeedStats {
  int64_t batches = 0;
  double input_mean_sum = 0.0;  ///< sum over batches of the batch's mean input value
};

/// Which device LibTorch runs on: "cpu" or "cuda". Throws InputError for
/// "cuda" when LibTorch was built without CUDA or no GPU is visible.
void check_device(const std::string& device);
/// LibTorch's version, e.g. "1.13.1".
std::string torch_version();
/// Pins LibTorch's intra-op threads for the calling thread (0 leaves it).
void set_torch_threads(int threads);
int torch_threads();
/// Turns flushing of denormal floats to zero on or off (SSE FTZ/DAZ).
void set_flush_denormal(bool on);

/// A trainable network. Copying is deleted; moving is allowed.
class Model {
 public:
  /// Builds the network with every weight drawn from a generator seeded by
  /// `seed` as PyTorch's defaults draw it (He-uniform for conv/linear,
  /// +-1/sqrt(H) for LSTMs, xavier for attention, N(0, 1) for embeddings),
  /// on `device`.
  Model(const Architecture& arch, uint64_t seed, const std::string& device = "cpu");
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Architecture& architecture() const;
  /// Trains on `data` (cycling through it in shuffled order); records curve
  /// points on `eval` when given. `on_record`, when set, is called after each
  /// curve point (a meter can close a window there: the real-run benchmark
  /// reads early and late energy that way).
  TrainResult train(const Dataset& data, const TrainOptions& options, const Dataset* eval = nullptr,
                    const std::function<void(const CurvePoint&)>& on_record = {});
  /// Batches fed by train() so far.
  const FeedStats& feed_stats() const;
  /// Top-1 accuracy in [0, 1] on up to `max_samples` samples (all if < 0).
  double accuracy(const Dataset& data, int64_t max_samples = -1) const;
  /// Mean cross-entropy loss on up to `max_samples` samples.
  double loss(const Dataset& data, int64_t max_samples = -1) const;

  /// Saves parameters and buffers (a TorchScript-format archive that
  /// torch.jit.load can open). Written atomically.
  void save(const std::string& path) const;
  /// Loads parameters saved by save() into a model of `arch`; throws
  /// InputError naming the file when it is missing or does not match.
  static Model load(const std::string& path, const Architecture& arch,
                    const std::string& device = "cpu");
  /// Writes a TorchScript module with a `forward` that Python's
  /// torch.jit.load can run, for every layer type: one submodule per layer
  /// named like its torch.nn / torchvision class (BasicBlock, Bottleneck,
  /// LSTM, TransformerEncoderLayer, ... with their parameter names), so that
  /// architecture_from_torchscript reads it back. Written atomically.
  void export_torchscript(const std::string& path) const;

  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  friend Model make_model(std::unique_ptr<Impl> impl);
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Top-1 accuracy of a TorchScript file written by export_torchscript (or
/// any module mapping [N, ...] to class scores) on up to `max_samples`.
double torchscript_accuracy(const std::string& path, const Dataset& data, int64_t max_samples = -1);

/// Reads the layer sequence of a TorchScript module (torch.jit.script of a
/// torch.nn / torchvision model, or export_torchscript; torch.jit.trace
/// drops the hyperparameters of convolutions, pools and LSTMs, which are
/// then refused): its submodules in registration order, containers walked
/// into, each mapped by class name: Conv2d, Conv1d, Linear, BatchNorm1d/2d,
/// ReLU, MaxPool2d, AvgPool2d, MaxPool1d, Flatten (dropped right after a
/// global pool), LastStep and GlobalAvgPool (export_torchscript's `last`
/// and mean over time), Dropout, Identity (nothing), AdaptiveAvgPool1d/2d to 1
/// (global_avgpool), Embedding, LSTM (batch_first, unidirectional: lstm),
/// TransformerEncoderLayer (batch_first, post-norm, ReLU: encoder; a
/// TransformerEncoder gives one per layer), torchvision's BasicBlock
/// (residual) and Bottleneck (bottleneck), or a module with their children
/// (conv1, bn1, ... downsample). The code between
/// modules is not read, except that a Linear after an LSTM or encoder gets
/// the reduction to one step the forward code does inserted before it:
/// `last` for x[:, -1], `global_avgpool` for x.mean(1) (by default `last`
/// after an LSTM, `global_avgpool` after an encoder). A module it cannot map
/// is an InputError naming the module's path and class; so is a 2-D
/// `input_shape` without a `layout` (channels [C, L] or sequence [T, F]).
Architecture architecture_from_torchscript(
    const std::string& path, const std::vector<int64_t>& input_shape, int64_t batch_size,
    Architecture::InputLayout layout = Architecture::InputLayout::automatic);

/// What a training step trains on and with what. Shared by the real training
/// run (Model::train), the measurement protocol and every profiling variant,
/// so that all three cost what the user's run costs (issue: a fixed random
/// batch and a default optimizer cost 5-12 % more per step than a stream of
/// real batches with the recipe's optimizer on this CPU).
struct TrainFeed {
  /// Real samples, streamed in shuffled order, when their shape equals the
  /// network's input; otherwise (or when null) a stand-in is fed and named.
  const Dataset* data = nullptr;
  /// Optimizer, learning rate, momentum, weight decay and shuffling seed.
  /// `iterations`, `record_every` and `eval_samples` are not used here.
  TrainOptions train;
  /// Compute the gradient of the input too. An output kind's 1-layer
  /// variant sets it: in every network it stands for, layers before it have
  /// weights, so its backward pass computes its input's gradient as well.
  bool input_grad = false;
};

/// Name of what a network of input shape `input` is fed under `feed`: the
/// data set's name, or the stand-in (see kStandIn).
std::string feed_name(const TrainFeed& feed, const std::vector<int64_t>& input);
/// The stand-in fed where no real data fits: a pool of 8 batches of uniform
/// [0, 1) inputs (token inputs: ids uniform over the embedding's vocabulary)
/// with uniform random labels, cycled.
inline constexpr const char* kStandIn = "stand-in: uniform [0,1) inputs, random labels";

/// The training loop the protocol and the profiler time: a fresh network of
/// `arch` (weights from `seed`) trained step by step on `feed` with the same
/// step code as Model::train.
class TrainingSession {
 public:
  TrainingSession(const Architecture& arch, uint64_t seed, const TrainFeed& feed = {},
                  const std::string& device = "cpu");
  ~TrainingSession();
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;
  /// Runs `iterations` optimizer steps (next batch, forward, loss, backward, step).
  void run(int64_t iterations);
  /// What the session is fed (data set name or kStandIn).
  const std::string& feed() const;
  /// Batches fed so far.
  const FeedStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace thor
