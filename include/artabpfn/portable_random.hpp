#pragma once
// Seeded draws that are the same on every platform: std::normal_distribution differs between
// standard libraries, mt19937_64 does not, so normals come from Box-Muller on its words. The
// conformance vectors and the random model weights are drawn with it, so a seed names the same
// values everywhere.
#include <cmath>
#include <cstdint>
#include <random>

namespace artabpfn {

class PortableRandom {
 public:
  explicit PortableRandom(std::uint64_t seed) : engine_(seed) {}
  double uniform() { return (static_cast<double>(engine_() >> 11) + 0.5) * 0x1p-53; }  // (0, 1)
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  float normal_float(double scale = 1.0) { return static_cast<float>(scale * normal()); }
  std::uint64_t bits() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

}  // namespace artabpfn
