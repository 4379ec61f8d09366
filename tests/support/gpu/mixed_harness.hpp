#pragma once
// The mixed-precision path's layer kernels (kernels/mixed.hpp) in tests: double arithmetic, so the
// outputs must match the double reference to a bound of double rounding (far below any float32
// error), plus the one rounding to float32 where the output is float32
// (tolerance/double_rounding.hpp). Launches into guard-banded outputs checked after the launch;
// the bounds of the double arithmetic for each kernel.
#include <vector>

#include "tests/support/gpu/layer_norm_harness.hpp"
#include "tests/support/gpu/linear_harness.hpp"

namespace artabpfn::gpu_layer_test {

// The input and output types of kernels::mixed::linear.
enum class MixedIo { kDoubleToDouble, kDoubleToFloat, kFloatToDouble };

std::vector<double> gpu_mixed_linear(const LinearCase& c, MixedIo io);

// (in + 16) double ulps of the largest sum of term magnitudes (twice that with the GELU
// epilogue): the two orders of summation and the double GELU (its slope is at most 1.13).
double mixed_linear_floor(const LinearCase& c);

// in_place: the output starts as x.
std::vector<double> gpu_mixed_layer_norm(const LayerNormCase& c, bool in_place);

// 2^-44 width x the largest row condition max|v| / std (the centring's cancellation) x max|w|,
// + 2^-50 max|b|: double rounding with room, a millionth of float32's.
double mixed_layer_norm_floor(const LayerNormCase& c);

}  // namespace artabpfn::gpu_layer_test
