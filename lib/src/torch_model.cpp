// The LibTorch side of thor: building, training, evaluating and saving
// models. The block layer types' modules live in torch_blocks.cpp; few
// translation units include <torch/torch.h> (each costs ~20 s to compile).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>
#if defined(__x86_64__) || defined(__i386__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <sstream>

#include "thor/detail/torch_blocks.hpp"
#include "thor/detail/torch_model.hpp"
#include "thor/interrupt.hpp"
#include "thor/io.hpp"

namespace thor {

void TrainOptions::validate() const {
  const FieldRules f("train");
  f.require(optimizer == "sgd" || optimizer == "adam", "optimizer", "'" + optimizer + "'",
            "expected sgd or adam");
  f.number("lr", lr, 1e-8, 10.0);
  f.number("momentum", momentum, 0.0, 0.999);
  f.number("weight_decay", weight_decay, 0.0, 1.0);
  // 0 iterations is a valid no-op (a fine-tune of length 0); a recipe's run needs >= 1.
  f.count("iterations", iterations, 0);
  f.count("record_every", record_every, 0);
}

void check_device(const std::string& device) {
  if (device == "cpu") return;
  if (device == "cuda") {
    if (!torch::cuda::is_available())
      throw InputError(
          "device 'cuda': LibTorch here has no CUDA support or no GPU is visible; use 'cpu'");
    return;
  }
  throw InputError("device '" + device + "': expected cpu or cuda");
}

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

void set_torch_threads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
}

int torch_threads() { return torch::get_num_threads(); }

void set_flush_denormal(bool on) {
  // at::globalContext().setFlushDenormal sets FTZ/DAZ on the calling thread;
  // set the MXCSR bits directly as well so worker threads started later by
  // TBB inherit nothing surprising (each task calls this itself).
  at::globalContext().setFlushDenormal(on);
#if defined(__x86_64__) || defined(__i386__)
  _MM_SET_FLUSH_ZERO_MODE(on ? _MM_FLUSH_ZERO_ON : _MM_FLUSH_ZERO_OFF);
  _MM_SET_DENORMALS_ZERO_MODE(on ? _MM_DENORMALS_ZERO_ON : _MM_DENORMALS_ZERO_OFF);
#elif defined(__aarch64__)
  // AArch64 (e.g. Jetson): FPCR.FZ (bit 24) flushes denormal inputs and results to zero.
  unsigned long long fpcr = 0;
  __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = on ? (fpcr | (1ULL << 24)) : (fpcr & ~(1ULL << 24));
  __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
#else
  // Other architectures: only LibTorch's own setting above (no portable FTZ control).
#endif
}

namespace {

torch::Device to_device(const std::string& name) {
  check_device(name);
  return name == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace

std::unique_ptr<Model::Impl> build_model_impl(const Architecture& arch, uint64_t seed,
                                              const torch::Device& device) {
  arch.validate();
  auto impl = std::make_unique<Model::Impl>();
  impl->arch = arch;
  impl->device = device;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto infos = arch.infer();
  // Appends a module to the Sequential and returns it as a plain Module.
  auto add = [&](auto module) -> std::shared_ptr<torch::nn::Module> {
    impl->net->push_back(module);
    return module.ptr();
  };
  for (size_t i = 0; i < arch.layers.size(); ++i) {
    const Layer& l = arch.layers[i];
    const auto& in = infos[i].in_shape;
    std::shared_ptr<torch::nn::Module> m;
    switch (l.type) {
      case LayerType::conv: {
        auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(in[0], l.out, l.kernel)
                                          .stride(l.effective_stride())
                                          .padding(l.padding));
        init_fan_in(conv->weight, conv->bias, gen);
        m = add(conv);
        break;
      }
      case LayerType::linear: {
        auto lin = torch::nn::Linear(in.back(), l.out);  // a sequence's last dim: features
        init_fan_in(lin->weight, lin->bias, gen);
        m = add(lin);
        break;
      }
      case LayerType::batchnorm:
        m = in.size() == 3 ? add(torch::nn::BatchNorm2d(in[0]))
                           : add(torch::nn::BatchNorm1d(in[0]));
        break;
      case LayerType::relu:
        m = add(torch::nn::ReLU());
        break;
      case LayerType::maxpool:
        m = add(torch::nn::MaxPool2d(
            torch::nn::MaxPool2dOptions(l.kernel).stride(l.effective_stride()).padding(l.padding)));
        break;
      case LayerType::avgpool:
        m = add(torch::nn::AvgPool2d(
            torch::nn::AvgPool2dOptions(l.kernel).stride(l.effective_stride()).padding(l.padding)));
        break;
      case LayerType::flatten:
        m = add(torch::nn::Flatten());
        break;
      case LayerType::dropout:
        m = add(torch::nn::Dropout(l.p));
        break;
      case LayerType::residual:
      case LayerType::bottleneck:
      case LayerType::global_avgpool:
      case LayerType::conv1d:
      case LayerType::maxpool1d:
      case LayerType::lstm:
      case LayerType::last:
      case LayerType::encoder:
      case LayerType::embedding: {
        auto any = make_block_module(l, infos[i], gen);
        m = any.ptr();
        impl->net->push_back(std::move(any));
        break;
      }
    }
    impl->modules.push_back(m);
  }
  impl->net->to(device);
  return impl;
}

Model make_model(std::unique_ptr<Model::Impl> impl) { return Model(std::move(impl)); }

std::pair<torch::Tensor, torch::Tensor> dataset_tensors(const Dataset& data, int64_t begin,
                                                        int64_t n, const torch::Device& device) {
  n = std::max<int64_t>(0, std::min(n, data.size() - begin));
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), data.sample_shape.begin(), data.sample_shape.end());
  auto x = torch::from_blob(const_cast<float*>(data.data.data()) + begin * data.sample_numel(),
                            shape, torch::kFloat32)
               .clone();
  auto y = torch::from_blob(const_cast<int64_t*>(data.labels.data()) + begin, {n}, torch::kInt64)
               .clone();
  return {x.to(device), y.to(device)};
}

Model::Model(const Architecture& arch, uint64_t seed, const std::string& device)
    : impl_(build_model_impl(arch, seed, to_device(device))) {}
Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const Architecture& Model::architecture() const { return impl_->arch; }

namespace {

void check_compatible(const Architecture& arch, const Dataset& data) {
  if (data.sample_shape != arch.input) {
    auto s = [](const std::vector<int64_t>& v) {
      std::string o = "[";
      for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + std::to_string(v[i]);
      return o + "]";
    };
    throw InputError("dataset '" + data.name + "': samples are " + s(data.sample_shape) +
                     " but the model's input is " + s(arch.input));
  }
  if (data.num_classes > arch.num_outputs())
    throw InputError("dataset '" + data.name + "' has " + std::to_string(data.num_classes) +
                     " classes but the model outputs " + std::to_string(arch.num_outputs()));
  if (data.size() == 0) throw InputError("dataset '" + data.name + "' is empty");
}

// Evaluates in chunks under NoGradGuard and eval(); returns {loss, accuracy}.
std::pair<double, double> evaluate(Model::Impl& impl, const Dataset& data, int64_t max_samples) {
  torch::NoGradGuard no_grad;
  const bool was_training = impl.net->is_training();
  impl.net->eval();
  const int64_t n = max_samples < 0 ? data.size() : std::min(max_samples, data.size());
  double loss_sum = 0.0;
  int64_t correct = 0;
  for (int64_t b = 0; b < n; b += 500) {
    auto [x, y] = dataset_tensors(data, b, std::min<int64_t>(500, n - b), impl.device);
    auto out = impl.net->forward(x);
    loss_sum += torch::nn::functional::cross_entropy(
                    out, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += out.argmax(1).eq(y).sum().item<int64_t>();
  }
  if (was_training) impl.net->train();
  return {loss_sum / std::max<int64_t>(1, n),
          static_cast<double>(correct) / std::max<int64_t>(1, n)};
}

}  // namespace

// ------------------------------------------------------- the training step

std::string feed_name(const TrainFeed& feed, const std::vector<int64_t>& input) {
  if (feed.data && feed.data->sample_shape == input && feed.data->size() > 0)
    return feed.data->name;
  return kStandIn;
}

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Sequential& net,
                                                        const TrainOptions& o) {
  if (o.optimizer == "adam")
    return std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  return std::make_unique<torch::optim::SGD>(
      net->parameters(),
      torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
}

// Stand-in inputs: uniform [0, 1), or, for token inputs, ids uniform over
// the first embedding's vocabulary (all-zero ids would cost less than text).
torch::Tensor stand_in_inputs(const Architecture& arch, const std::vector<int64_t>& shape,
                              at::Generator& gen) {
  if (arch.input_layout() == Layout::tokens && !arch.layers.empty() &&
      arch.layers[0].type == LayerType::embedding)
    return torch::randint(arch.layers[0].vocab, shape, gen, torch::kFloat32);
  return torch::rand(shape, gen);
}

// The one training step of thor: the real run (Model::train), the protocol
// and every profiling variant go through StepLoop::step(), fed the same way.
class StepLoop {
 public:
  StepLoop(Model::Impl& model, const TrainFeed& feed)
      : model_(model),
        opt_(make_optimizer(model.net, feed.train)),
        rng_(feed.train.seed),
        input_grad_(feed.input_grad) {
    const Architecture& arch = model.arch;
    const int64_t B = arch.batch_size;
    std::vector<int64_t> shape{B};
    shape.insert(shape.end(), arch.input.begin(), arch.input.end());
    name_ = feed_name(feed, arch.input);
    if (name_ != kStandIn) {
      data_ = feed.data;
      order_.resize(static_cast<size_t>(data_->size()));
      std::iota(order_.begin(), order_.end(), 0);
      std::shuffle(order_.begin(), order_.end(), rng_);
      x_ = torch::empty(shape, torch::kFloat32);
      y_ = torch::empty({B}, torch::kInt64);
    } else {
      // A pool of batches, made before any window opens, so that the step
      // costs no random-number generation.
      at::Generator gen =
          at::make_generator<at::CPUGeneratorImpl>(feed.train.seed ^ 0x9e3779b97f4a7c15ULL);
      for (int i = 0; i < 8; ++i) {
        pool_x_.push_back(stand_in_inputs(arch, shape, gen).to(model.device));
        pool_y_.push_back(
            torch::randint(arch.num_outputs(), {B}, gen, torch::kInt64).to(model.device));
      }
    }
    model.net->train();
  }

  const std::string& name() const { return name_; }

  /// One optimizer step on the next batch; returns its loss.
  double step() {
    throw_if_interrupted();  // Ctrl-C ends training at the next step (thor/interrupt.hpp)
    torch::Tensor x, y;
    if (data_) {
      fill_next_batch();
      x = x_.to(model_.device);
      y = y_.to(model_.device);
    } else {
      x = pool_x_[pool_next_];
      y = pool_y_[pool_next_];
      pool_next_ = (pool_next_ + 1) % pool_x_.size();
    }
    if (input_grad_) x = x.detach().requires_grad_(true);  // a fresh leaf: no accumulation
    model_.stats.batches += 1;
    model_.stats.input_mean_sum += data_ ? batch_mean_ : 0.5;
    opt_->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model_.net->forward(x), y);
    loss.backward();
    opt_->step();
    return loss.item<double>();  // also waits for queued GPU work
  }

 private:
  void fill_next_batch() {
    const int64_t B = model_.arch.batch_size, numel = data_->sample_numel();
    float* xp = x_.data_ptr<float>();
    int64_t* yp = y_.data_ptr<int64_t>();
    double sum = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      if (cursor_ == order_.size()) {
        std::shuffle(order_.begin(), order_.end(), rng_);
        cursor_ = 0;
      }
      const int64_t idx = order_[cursor_++];
      const float* src = data_->data.data() + idx * numel;
      std::copy_n(src, numel, xp + b * numel);
      sum += src[0] + src[numel / 2];  // a cheap intensity probe, not a full mean
      yp[b] = data_->labels[static_cast<size_t>(idx)];
    }
    batch_mean_ = sum / (2.0 * static_cast<double>(B));
  }

  Model::Impl& model_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
  std::mt19937_64 rng_;
  bool input_grad_ = false;
  std::string name_;
  const Dataset* data_ = nullptr;
  std::vector<int64_t> order_;
  size_t cursor_ = 0;
  torch::Tensor x_, y_;
  double batch_mean_ = 0.0;
  std::vector<torch::Tensor> pool_x_, pool_y_;
  size_t pool_next_ = 0;
};

}  // namespace

const FeedStats& Model::feed_stats() const { return impl_->stats; }

TrainResult Model::train(const Dataset& data, const TrainOptions& options, const Dataset* eval,
                         const std::function<void(const CurvePoint&)>& on_record) {
  options.validate();
  check_compatible(impl_->arch, data);
  StepLoop loop(*impl_, TrainFeed{&data, options});

  TrainResult result;
  const auto t0 = std::chrono::steady_clock::now();
  double window_loss = 0.0, tail_loss = 0.0;
  int64_t window_n = 0, tail_n = 0;
  const int64_t tail_start = options.iterations - std::max<int64_t>(1, options.iterations / 10);
  for (int64_t it = 0; it < options.iterations; ++it) {
    const double l = loop.step();
    window_loss += l;
    ++window_n;
    if (it >= tail_start) {
      tail_loss += l;
      ++tail_n;
    }
    if (options.record_every > 0 &&
        ((it + 1) % options.record_every == 0 || it + 1 == options.iterations)) {
      CurvePoint p;
      p.iteration = it + 1;
      p.loss = window_loss / window_n;
      p.accuracy = eval ? evaluate(*impl_, *eval, options.eval_samples).second : -1.0;
      result.curve.push_back(p);
      if (on_record) on_record(p);
      window_loss = 0.0;
      window_n = 0;
    }
  }
  result.final_loss = tail_n ? tail_loss / tail_n : 0.0;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

double Model::accuracy(const Dataset& data, int64_t max_samples) const {
  check_compatible(impl_->arch, data);
  return evaluate(*impl_, data, max_samples).second;
}

double Model::loss(const Dataset& data, int64_t max_samples) const {
  check_compatible(impl_->arch, data);
  return evaluate(*impl_, data, max_samples).first;
}

void Model::save(const std::string& path) const {
  std::ostringstream out;
  torch::serialize::OutputArchive archive;
  impl_->net->save(archive);
  archive.save_to(out);
  write_file_atomic(path, out.str());
}

Model Model::load(const std::string& path, const Architecture& arch, const std::string& device) {
  auto impl = build_model_impl(arch, 0, to_device(device));
  const std::string bytes = read_file(path);
  // Module::load replaces tensors without checking shapes: check them here.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : impl->net->named_parameters())
    expected.emplace_back(p.key(), p.value().sizes().vec());
  try {
    std::istringstream in(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(in, impl->device);
    impl->net->load(archive);
    const auto loaded = impl->net->named_parameters();
    for (const auto& [name, sizes] : expected) {
      if (loaded[name].sizes().vec() != sizes)
        throw InputError(path + ": parameter '" + name + "' has shape " +
                         c10::str(loaded[name].sizes()) + " but the architecture needs " +
                         c10::str(sizes));
    }
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw InputError(path + ": not a thor checkpoint of this architecture (" +
                     what.substr(0, what.find('\n')) + ")");
  }
  return Model(std::move(impl));
}

struct TrainingSession::Impl {
  std::unique_ptr<Model::Impl> model;
  std::unique_ptr<StepLoop> loop;
};

TrainingSession::TrainingSession(const Architecture& arch, uint64_t seed, const TrainFeed& feed,
                                 const std::string& device)
    : impl_(std::make_unique<Impl>()) {
  feed.train.validate();
  impl_->model = build_model_impl(arch, seed, to_device(device));
  impl_->loop = std::make_unique<StepLoop>(*impl_->model, feed);
}

TrainingSession::~TrainingSession() = default;

void TrainingSession::run(int64_t iterations) {
  for (int64_t i = 0; i < iterations; ++i) impl_->loop->step();
}

const std::string& TrainingSession::feed() const { return impl_->loop->name(); }
const FeedStats& TrainingSession::stats() const { return impl_->model->stats; }

}  // namespace thor
