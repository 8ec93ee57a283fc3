// nvml: NVIDIA GPU energy from nvmlDeviceGetTotalEnergyConsumption (mJ since
// the driver was loaded; Volta and newer). The library is loaded with dlopen
// so thor has no build or run dependency on the NVIDIA driver; the few NVML
// types used are declared here (ABI of nvml.h, stable since CUDA 10).
// The counter is updated by the driver every 20-100 ms, so windows much
// shorter than ~1 s carry that much quantisation error.
#include <dlfcn.h>

#include <chrono>
#include <stdexcept>

#include "builtin.hpp"

namespace thor::meters_detail {
namespace {

// From nvml.h: nvmlReturn_t is an enum (int), nvmlDevice_t an opaque pointer.
using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
constexpr nvmlReturn_t NVML_ERROR_NO_PERMISSION = 4;
constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using HandleByIndexFn = nvmlReturn_t (*)(unsigned, nvmlDevice_t*);
using TotalEnergyFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*);
using NameFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned);
using ErrorStringFn = const char* (*)(nvmlReturn_t);

class NvmlMeter final : public EnergyMeter {
 public:
  explicit NvmlMeter(const MeterOptions& options)
      : library_(options.nvml_library), index_(options.gpu_index) {
    handle_ = ::dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
      const char* err = ::dlerror();
      throw SensorError("nvml: cannot load " + library_ + ": " + (err ? err : "unknown error") +
                        " (no NVIDIA driver here, or set the NVML library path)");
    }
    try {
      init_ = symbol<InitFn>("nvmlInit_v2");
      shutdown_ = symbol<ShutdownFn>("nvmlShutdown");
      handle_by_index_ = symbol<HandleByIndexFn>("nvmlDeviceGetHandleByIndex_v2");
      total_energy_ = symbol<TotalEnergyFn>("nvmlDeviceGetTotalEnergyConsumption");
      get_name_ = symbol<NameFn>("nvmlDeviceGetName");
      error_string_ = reinterpret_cast<ErrorStringFn>(::dlsym(handle_, "nvmlErrorString"));
      check(init_(), "nvmlInit_v2");
      initialised_ = true;
      const nvmlReturn_t rc = handle_by_index_(static_cast<unsigned>(index_), &device_);
      if (rc == NVML_ERROR_INVALID_ARGUMENT)
        throw SensorError("nvml: no GPU with index " + std::to_string(index_) +
                          " (gpu_index counts from 0)");
      check(rc, "nvmlDeviceGetHandleByIndex_v2(" + std::to_string(index_) + ")");
      char buf[kNameBufferSize] = {};
      if (get_name_(device_, buf, kNameBufferSize) == NVML_SUCCESS) gpu_name_ = buf;
    } catch (...) {
      release();
      throw;
    }
  }

  ~NvmlMeter() override { release(); }

  std::string name() const override { return "nvml"; }
  EnergyKind kind() const override { return EnergyKind::measured; }
  std::string describe() const override {
    return "nvml: GPU " + std::to_string(index_) + " (" +
           (gpu_name_.empty() ? std::string("unknown") : gpu_name_) +
           "), nvmlDeviceGetTotalEnergyConsumption via " + library_;
  }

  void start() override {
    start_mj_ = read_mj();
    t0_ = std::chrono::steady_clock::now();
    open_ = true;
  }

  EnergyReading stop() override {
    if (!open_) throw std::logic_error("nvml: stop() without start()");
    const unsigned long long end_mj = read_mj();
    const auto t1 = std::chrono::steady_clock::now();
    open_ = false;
    EnergyReading r;
    // The 64-bit counter does not wrap in practice; guard a driver reload anyway.
    r.joules = end_mj >= start_mj_ ? static_cast<double>(end_mj - start_mj_) * 1e-3 : 0.0;
    r.seconds = std::chrono::duration<double>(t1 - t0_).count();
    r.kind = EnergyKind::measured;
    return r;
  }

 private:
  template <class F>
  F symbol(const char* sym) {
    void* p = ::dlsym(handle_, sym);
    if (!p) throw SensorError("nvml: " + library_ + " has no symbol " + sym + " (driver too old?)");
    return reinterpret_cast<F>(p);
  }

  std::string error_text(nvmlReturn_t rc) const {
    const char* s = error_string_ ? error_string_(rc) : nullptr;
    return s ? std::string(s) + " (" + std::to_string(rc) + ")" : "error " + std::to_string(rc);
  }

  void check(nvmlReturn_t rc, const std::string& what) const {
    if (rc != NVML_SUCCESS) throw SensorError("nvml: " + what + " failed: " + error_text(rc));
  }

  unsigned long long read_mj() const {
    unsigned long long mj = 0;
    const nvmlReturn_t rc = total_energy_(device_, &mj);
    if (rc == NVML_ERROR_NOT_SUPPORTED)
      throw SensorError("nvml: GPU " + std::to_string(index_) + " (" + gpu_name_ +
                        ") does not report total energy (needs Volta or newer)");
    if (rc == NVML_ERROR_NO_PERMISSION)
      throw SensorError("nvml: GPU " + std::to_string(index_) +
                        ": no permission to read total energy: " + error_text(rc));
    check(rc, "nvmlDeviceGetTotalEnergyConsumption(GPU " + std::to_string(index_) + ")");
    return mj;
  }

  void release() {
    if (initialised_ && shutdown_) shutdown_();
    initialised_ = false;
    if (handle_) ::dlclose(handle_);
    handle_ = nullptr;
  }

  std::string library_;
  int index_ = 0;
  void* handle_ = nullptr;
  bool initialised_ = false;
  InitFn init_ = nullptr;
  ShutdownFn shutdown_ = nullptr;
  HandleByIndexFn handle_by_index_ = nullptr;
  TotalEnergyFn total_energy_ = nullptr;
  NameFn get_name_ = nullptr;
  ErrorStringFn error_string_ = nullptr;
  nvmlDevice_t device_ = nullptr;
  std::string gpu_name_;
  unsigned long long start_mj_ = 0;
  std::chrono::steady_clock::time_point t0_;
  bool open_ = false;
};

}  // namespace

std::unique_ptr<EnergyMeter> make_nvml_meter(const MeterOptions& options) {
  return std::make_unique<NvmlMeter>(options);
}

}  // namespace thor::meters_detail
