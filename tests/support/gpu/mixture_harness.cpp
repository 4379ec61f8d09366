#include "tests/support/gpu/mixture_harness.hpp"

#include <algorithm>
#include <cstring>

#include "kernels/head.hpp"
#include "tests/support/gpu/device_calls.hpp"

namespace artabpfn::gpu_layer_test {
namespace {

struct DeviceMixture {
  DeviceBuffer<float> r, mean_bias, std_bias, weight_bias;
  kernels::MixtureBiases biases;
  explicit DeviceMixture(const MixtureCase& c)
      : r(c.r), mean_bias(c.mean_bias), std_bias(c.std_bias), weight_bias(c.weight_bias),
        biases{mean_bias.data(), std_bias.data(), weight_bias.data(), c.k} {}
};

}  // namespace

MixtureCase random_mixture(Rng& rng, std::int64_t rows, int k, double logit_spread) {
  MixtureCase c;
  c.rows = rows;
  c.k = k;
  c.r.resize(static_cast<std::size_t>(rows * 3 * k));
  for (std::int64_t i = 0; i < rows; ++i)
    for (int j = 0; j < k; ++j) {
      const std::size_t at = static_cast<std::size_t>(i * 3 * k + 3 * j);
      c.r[at] = rng.normal(0.0, 3.0);
      c.r[at + 1] = rng.uniform(-12.0, 25.0);  // std from ~1e-3 (+ floor) through the 2.0 clamp
      c.r[at + 2] = rng.uniform(-logit_spread, logit_spread);
    }
  c.mean_bias = rng.normals(static_cast<std::size_t>(k), 0.0, 1.0);
  c.std_bias = rng.normals(static_cast<std::size_t>(k), 0.0, 1.0);
  c.weight_bias = rng.normals(static_cast<std::size_t>(k), 0.0, 1.0);
  return c;
}

GpuMixtureParams gpu_mixture_params(const MixtureCase& c) {
  DeviceMixture d(c);
  const std::size_t n = static_cast<std::size_t>(c.rows * c.k);
  GuardedOutput mean(n), sd(n), lw(n);
  kernels::mixture_params(d.r.data(), d.biases, c.rows, mean.data(), sd.data(), lw.data(), nullptr);
  device_sync();
  return {mean.checked_download("mixture_params mean"), sd.checked_download("mixture_params std"),
          lw.checked_download("mixture_params log_weight")};
}

std::vector<float> gpu_mixture_log_density(const MixtureCase& c, const std::vector<float>& y) {
  DeviceMixture d(c);
  DeviceBuffer<float> values(y);
  GuardedOutput out(static_cast<std::size_t>(c.rows));
  kernels::mixture_log_density(d.r.data(), d.biases, values.data(), c.rows, out.data(), nullptr);
  device_sync();
  return out.checked_download("mixture_log_density");
}

GpuSamples gpu_mixture_sample(const MixtureCase& c, std::uint64_t seed, const std::vector<std::uint32_t>& task,
                              const std::vector<std::uint32_t>& sample, std::uint32_t step, bool with_component) {
  DeviceMixture d(c);
  DeviceBuffer<std::uint32_t> tasks(task), samples(sample);
  GuardedOutput y(static_cast<std::size_t>(c.rows)), component(static_cast<std::size_t>(c.rows));
  // The int32 component goes through a float GuardedOutput: same size, and the poison pattern
  // (0x7fa0dead) is no component index, so an unwritten element is still caught.
  kernels::mixture_sample(d.r.data(), d.biases, kernels::SampleCounters{seed, tasks.data(), samples.data(), step},
                          c.rows, y.data(), with_component ? reinterpret_cast<std::int32_t*>(component.data()) : nullptr,
                          nullptr);
  device_sync();
  GpuSamples s;
  s.y = y.checked_download("mixture_sample y");
  if (with_component) {
    const std::vector<float> raw = component.checked_download("mixture_sample component");
    s.component.resize(raw.size());
    std::memcpy(s.component.data(), raw.data(), raw.size() * sizeof(float));
  }
  return s;
}

template <class T>
reference::Mixture<T> reference_mixture_row(const MixtureCase& c, std::int64_t row) {
  reference::Mixture<T> m;
  m.mean.resize(c.k);
  m.std.resize(c.k);
  Vector<T> logits(c.k);
  const float* r = c.r.data() + row * 3 * c.k;
  for (int k = 0; k < c.k; ++k) {
    const std::size_t kk = static_cast<std::size_t>(k);
    m.mean(k) = T(r[3 * k]) + T(c.mean_bias[kk]);
    m.std(k) = std::min(reference::softplus<T>(T(r[3 * k + 1]) + T(c.std_bias[kk])), T(2)) + reference::ratio<T>(1, 1000);
    logits(k) = T(r[3 * k + 2]) + T(c.weight_bias[kk]);
  }
  m.log_weight = logits.array() - reference::log_sum_exp(logits);
  return m;
}

template <class T>
std::vector<reference::Mixture<T>> reference_mixture(const MixtureCase& c) {
  std::vector<reference::Mixture<T>> out;
  out.reserve(static_cast<std::size_t>(c.rows));
  for (std::int64_t i = 0; i < c.rows; ++i) out.push_back(reference_mixture_row<T>(c, i));
  return out;
}

template reference::Mixture<double> reference_mixture_row<double>(const MixtureCase&, std::int64_t);
template reference::Mixture<float> reference_mixture_row<float>(const MixtureCase&, std::int64_t);
template std::vector<reference::Mixture<double>> reference_mixture<double>(const MixtureCase&);
template std::vector<reference::Mixture<float>> reference_mixture<float>(const MixtureCase&);

}  // namespace artabpfn::gpu_layer_test
