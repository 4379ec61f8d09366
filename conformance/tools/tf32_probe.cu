// tf32_probe: what the tensor cores do with a float32 operand of a TF32 product (docs/precisions.md,
// "TF32: round or truncate?"). Each path multiplies test values a by 1 on the tensor cores and
// reads a x 1 back: the rounding of a to 10 explicit mantissa bits shows in the result. Paths:
//   mma.sync m16n8k8 .tf32 given the raw float32 bits; the same after cvt.rna.tf32.f32;
//   wmma (precision::tf32) loaded from float32 memory as is; the same after __float_to_tf32.
// Prints one verdict line per path ("rounds to nearest, ties away", "truncates (toward zero)",
// ...) and exits 0; without a usable GPU it says so and exits 0.
//
// Build: part of the CUDA build (target tf32_probe, sm_80 and later); run: build/conformance/tools/tf32_probe
#include <mma.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kValues = 16;  // one per row of the 16 x 8 tile

// a x 1 for 16 values a (row i of A holds a_i in column 0; B holds 1 at (0, 0)), by mma.sync.
__global__ void mma_products(const float* a, float* out, bool convert) {
  const int lane = threadIdx.x, group = lane >> 2, in_group = lane & 3;
  float a0 = 0.f, a1 = 0.f, b0 = 0.f;
  if (in_group == 0) {  // column 0 of A: rows group (a0) and group + 8 (a1)
    a0 = a[group];
    a1 = a[group + 8];
  }
  if (lane == 0) b0 = 1.0f;  // B (k 0, n 0)
  unsigned ua0 = __float_as_uint(a0), ua1 = __float_as_uint(a1), ub0 = __float_as_uint(b0);
  if (convert) {
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(ua0) : "f"(a0));
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(ua1) : "f"(a1));
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(ub0) : "f"(b0));
  }
  const unsigned zero = 0u;
  float d0 = 0.f, d1 = 0.f, d2 = 0.f, d3 = 0.f;
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%10, %11, %12, %13};"
      : "=f"(d0), "=f"(d1), "=f"(d2), "=f"(d3)
      : "r"(ua0), "r"(ua1), "r"(zero), "r"(zero), "r"(ub0), "r"(zero), "f"(0.f), "f"(0.f), "f"(0.f), "f"(0.f));
  if (in_group == 0) {  // D (row, column 0): rows group (d0) and group + 8 (d2); column 1 (d1, d3) is 0
    out[group] = d0 + d1;
    out[group + 8] = d2 + d3;
  }
}

// The same by wmma 16 x 16 x 8 with tf32 fragments loaded from float32 memory.
__global__ void wmma_products(const float* a, float* out, bool convert) {
  using namespace nvcuda;
  __shared__ float A[16 * 8], B[8 * 16], C[16 * 16];
  for (int i = threadIdx.x; i < 16 * 8; i += 32) {
    A[i] = (i % 8 == 0) ? a[i / 8] : 0.f;  // row-major 16 x 8: column 0
    B[i] = i == 0 ? 1.f : 0.f;             // row-major 8 x 16: (0, 0)
  }
  __syncwarp();
  wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
  wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> fc;
  wmma::load_matrix_sync(fa, A, 8);
  wmma::load_matrix_sync(fb, B, 16);
  if (convert) {
    for (int i = 0; i < fa.num_elements; ++i) fa.x[i] = wmma::__float_to_tf32(fa.x[i]);
    for (int i = 0; i < fb.num_elements; ++i) fb.x[i] = wmma::__float_to_tf32(fb.x[i]);
  }
  wmma::fill_fragment(fc, 0.f);
  wmma::mma_sync(fc, fa, fb, fc);
  wmma::store_matrix_sync(C, fc, 16, wmma::mem_row_major);
  __syncwarp();
  if (threadIdx.x < kValues) out[threadIdx.x] = C[threadIdx.x * 16];
}

// Test values: 1 + f ulp(TF32) for fractions f of the dropped 13 bits, both signs, and powers of
// two apart so that the verdicts do not depend on one exponent.
std::vector<float> test_values() {
  const float u = std::ldexp(1.0f, -10);  // the TF32 ulp of 1
  std::vector<float> v = {1 + 0.75f * u, 1 + 0.5f * u, 1 + 1.5f * u, 1 + 0.25f * u, 1 + std::ldexp(1.0f, -20),
                          1 + 0.999f * u};
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  v.push_back(3 * (1 + 0.75f * u));
  v.push_back(-0.125f * (1 + 0.5f * u));
  v.push_back(1e-3f);
  v.push_back(-7.77e4f);
  return v;  // 16
}

// Each rounding of a float32 to 10 explicit mantissa bits.
struct Model {
  const char* name;
  float (*round)(float);
};
float drop(float x, unsigned add) {
  unsigned b;
  std::memcpy(&b, &x, 4);
  b = (b + add) & 0xffffe000u;
  std::memcpy(&x, &b, 4);
  return x;
}
float nearest_away(float x) { return drop(x, 0x1000u); }
float nearest_even(float x) {
  unsigned b;
  std::memcpy(&b, &x, 4);
  return drop(x, 0xfffu + ((b >> 13) & 1u));
}
float toward_zero(float x) { return drop(x, 0u); }
float toward_minus_infinity(float x) { return x < 0 && toward_zero(x) != x ? drop(x, 0x1fffu) : toward_zero(x); }
float toward_plus_infinity(float x) { return x > 0 && toward_zero(x) != x ? drop(x, 0x1fffu) : toward_zero(x); }
float kept(float x) { return x; }
const Model kModels[] = {{"rounds to nearest, ties away from zero (as cvt.rna)", nearest_away},
                         {"rounds to nearest, ties to even", nearest_even},
                         {"truncates (rounds toward zero)", toward_zero},
                         {"rounds toward -infinity", toward_minus_infinity},
                         {"rounds toward +infinity", toward_plus_infinity},
                         {"keeps every float32 bit (no TF32 rounding)", kept}};

void verdict(const char* path, const std::vector<float>& a, const std::vector<float>& got) {
  std::string match;
  for (const Model& m : kModels) {
    bool all = true;
    for (int i = 0; i < kValues; ++i) all = all && m.round(a[std::size_t(i)]) == got[std::size_t(i)];
    if (all) match += (match.empty() ? "" : " / ") + std::string(m.name);
  }
  if (match.empty()) {
    std::printf("tf32_probe: %s: no rounding model explains the results:", path);
    for (int i = 0; i < kValues; ++i) std::printf(" %.9g->%.9g", a[std::size_t(i)], got[std::size_t(i)]);
    std::printf("\n");
  } else {
    std::printf("tf32_probe: %s: %s\n", path, match.c_str());
  }
}

}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("tf32_probe: skipped: no usable CUDA device\n");
    return 0;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  if (prop.major < 8) {
    std::printf("tf32_probe: skipped: %s (sm_%d%d) has no TF32 tensor cores\n", prop.name, prop.major, prop.minor);
    return 0;
  }
  std::printf("tf32_probe: %s (sm_%d%d)\n", prop.name, prop.major, prop.minor);
  const std::vector<float> a = test_values();
  float *da = nullptr, *dout = nullptr;
  cudaMalloc(&da, kValues * sizeof(float));
  cudaMalloc(&dout, kValues * sizeof(float));
  cudaMemcpy(da, a.data(), kValues * sizeof(float), cudaMemcpyHostToDevice);
  struct Path {
    const char* name;
    bool wmma, convert;
  };
  for (const Path& p : {Path{"mma.sync .tf32, raw float32 bits", false, false},
                        Path{"mma.sync .tf32 after cvt.rna.tf32.f32", false, true},
                        Path{"wmma precision::tf32, loaded from float32 as is", true, false},
                        Path{"wmma precision::tf32 after __float_to_tf32", true, true}}) {
    if (p.wmma) wmma_products<<<1, 32>>>(da, dout, p.convert);
    else mma_products<<<1, 32>>>(da, dout, p.convert);
    std::vector<float> got(kValues);
    const cudaError_t status = cudaMemcpy(got.data(), dout, kValues * sizeof(float), cudaMemcpyDeviceToHost);
    if (status != cudaSuccess) {
      std::printf("tf32_probe: %s: CUDA error %s\n", p.name, cudaGetErrorString(status));
      cudaGetLastError();
      continue;
    }
    verdict(p.name, a, got);
  }
  cudaFree(da);
  cudaFree(dout);
  return 0;
}
