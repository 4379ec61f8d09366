// attention_bench: times the attention kernels of kernels/attention.hpp on paper-sized problems
// (H = 4, Dh = 32, decode step Lq = 2) and sets them against ceilings measured in the same run.
//
//   ceilings  device-to-device copy (bytes read + written per second) and an FMA-bound kernel
//             (FP32 FLOP/s, 2 per FMA)
//   sweep     one factor at a time around B = 256, Nc = 256: Nc in 64..16384, B in 1..65536
//   kernels   shared   shared_context_attention: one task, context K/V [H, Nc, Dh] stored once
//             expanded the same attention with the context K/V copied per sample [B, H, Nc, Dh]
//                      (buffer_attention, decode mask, length Nc: the same kernel with per-sample
//                      K/V, i.e. no sharing of K/V tiles between samples)
//             fused    fused_attention: the context plus a 16-row buffer (capacity 32), decode
//
// Every point is validated before it is timed: shared vs expanded (the same arithmetic, expected
// bitwise equal) and 16 rows against a double-precision CPU attention. Times are medians of CUDA
// event pairs around single launches after warm-up, with L2 flushed before each repeat.
// Usage: attention_bench [--quick] [--json FILE]
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "bench/ceilings/ceilings.hpp"
#include "bench/event_timing.hpp"
#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"

namespace {

using artabpfn::kernels::DeviceBuffer;
namespace k = artabpfn::kernels;

constexpr int kHeads = 4, kHeadDim = 32, kQueries = 2, kBufferLength = 16, kBufferCapacity = 32;

__global__ void fill_kernel(float* data, std::size_t n, std::uint64_t seed) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    std::uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull ^ seed;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    data[i] = static_cast<float>(static_cast<double>(x >> 40) / static_cast<double>(1ull << 24) * 2.0 - 1.0);
  }
}

void fill(float* data, std::size_t n, std::uint64_t seed) {
  if (n == 0) return;
  fill_kernel<<<4096, 256>>>(data, n, seed);
  ARTABPFN_CHECK_LAUNCH();
}

// Copies context [H, Nc, Dh] into every sample's slot of [B, H, Nc, Dh].
__global__ void expand_kernel(const float* context, float* expanded, std::size_t per_sample, std::size_t total) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    expanded[i] = context[i % per_sample];
}

struct Flusher {
  DeviceBuffer<char> scratch;
  explicit Flusher(std::size_t bytes) : scratch(bytes) {}
  void operator()() { ARTABPFN_CUDA_CHECK(cudaMemsetAsync(scratch.data(), 0, scratch.size())); }
};


struct Point {
  std::string sweep;
  int batch = 0, context = 0;
  bool skipped = false;
  double needs_gib = 0;
  double shared_ms = 0, expanded_ms = 0, fused_ms = 0;
  double shared_bytes = 0, expanded_bytes = 0, flops = 0;
  double max_shared_vs_expanded = 0, max_ref_err = 0;
};

// Double-precision attention of one row (b, h, i) over the context only.
double reference_row_error(const std::vector<float>& q, const std::vector<float>& ck, const std::vector<float>& cv,
                           const std::vector<float>& out, const std::vector<float>& lse, int b, int h, int i, int nc) {
  const std::size_t row = (static_cast<std::size_t>(b) * kHeads + h) * kQueries + i;
  const float* qr = &q[row * kHeadDim];
  std::vector<double> s(static_cast<std::size_t>(nc));
  double m = -INFINITY;
  for (int j = 0; j < nc; ++j) {
    const float* kr = &ck[(static_cast<std::size_t>(h) * nc + j) * kHeadDim];
    double dot = 0;
    for (int d = 0; d < kHeadDim; ++d) dot += static_cast<double>(qr[d]) * kr[d];
    s[static_cast<std::size_t>(j)] = dot / std::sqrt(static_cast<double>(kHeadDim));
    m = std::max(m, s[static_cast<std::size_t>(j)]);
  }
  double l = 0, o[kHeadDim] = {};
  for (int j = 0; j < nc; ++j) {
    const double p = std::exp(s[static_cast<std::size_t>(j)] - m);
    l += p;
    for (int d = 0; d < kHeadDim; ++d) o[d] += p * cv[(static_cast<std::size_t>(h) * nc + j) * kHeadDim + d];
  }
  double err = std::abs(m + std::log(l) - lse[row]);
  for (int d = 0; d < kHeadDim; ++d) err = std::max(err, std::abs(o[d] / l - out[row * kHeadDim + d]));
  return err;
}

Point run_point(const std::string& sweep, int B, int Nc, int warmup, int reps, Flusher& flush) {
  Point p;
  p.sweep = sweep;
  p.batch = B;
  p.context = Nc;
  const std::size_t rows = static_cast<std::size_t>(B) * kHeads * kQueries;
  const std::size_t q_elems = rows * kHeadDim;
  const std::size_t ctx_elems = static_cast<std::size_t>(kHeads) * Nc * kHeadDim;
  const std::size_t exp_elems = static_cast<std::size_t>(B) * ctx_elems;
  const std::size_t buf_elems = static_cast<std::size_t>(B) * kHeads * kBufferCapacity * kHeadDim;
  const double needed = 4.0 * (3.0 * q_elems + 2.0 * ctx_elems + 2.0 * exp_elems + 2.0 * buf_elems + 4.0 * rows);
  std::size_t free_bytes = 0, total_bytes = 0;
  ARTABPFN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (needed > 0.9 * static_cast<double>(free_bytes)) {
    p.skipped = true;
    p.needs_gib = needed / (1024.0 * 1024.0 * 1024.0);
    return p;
  }
  DeviceBuffer<float> q(q_elems), ck(ctx_elems), cv(ctx_elems), ek(exp_elems), ev(exp_elems), bk(buf_elems), bv(buf_elems);
  DeviceBuffer<float> out(q_elems), out2(q_elems), lse(rows), lse2(rows);
  DeviceBuffer<std::int64_t> offset(std::vector<std::int64_t>{0});
  DeviceBuffer<std::int32_t> len(std::vector<std::int32_t>{Nc});
  DeviceBuffer<std::int32_t> tasks(std::vector<std::int32_t>(static_cast<std::size_t>(B), 0));
  fill(q.data(), q_elems, 1);
  fill(ck.data(), ctx_elems, 2);
  fill(cv.data(), ctx_elems, 3);
  fill(bk.data(), buf_elems, 4);
  fill(bv.data(), buf_elems, 5);
  expand_kernel<<<4096, 256>>>(ck.data(), ek.data(), ctx_elems, exp_elems);
  ARTABPFN_CHECK_LAUNCH();
  expand_kernel<<<4096, 256>>>(cv.data(), ev.data(), ctx_elems, exp_elems);
  ARTABPFN_CHECK_LAUNCH();

  const k::QueryBlock qb{q.data(), B, kHeads, kQueries, kHeadDim};
  const k::ContextKV ctx{ck.data(), cv.data(), offset.data(), len.data(), tasks.data()};
  const k::BufferKV expanded{ek.data(), ev.data(), Nc, Nc, k::BufferMask::kDecode};
  const k::BufferKV buffer{bk.data(), bv.data(), kBufferCapacity, kBufferLength, k::BufferMask::kDecode};
  auto shared = [&] { k::shared_context_attention(qb, ctx, {out.data(), lse.data()}, nullptr); };
  auto expand = [&] { k::buffer_attention(qb, expanded, {out2.data(), lse2.data()}, nullptr); };
  auto fused = [&] { k::fused_attention(qb, ctx, buffer, {out2.data(), lse2.data()}, nullptr); };

  // Validate before timing.
  shared();
  expand();
  ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
  const std::vector<float> o1 = out.download(), o2 = out2.download(), l1 = lse.download(), l2 = lse2.download();
  for (std::size_t i = 0; i < o1.size(); ++i) p.max_shared_vs_expanded = std::max(p.max_shared_vs_expanded, static_cast<double>(std::abs(o1[i] - o2[i])));
  for (std::size_t i = 0; i < l1.size(); ++i) p.max_shared_vs_expanded = std::max(p.max_shared_vs_expanded, static_cast<double>(std::abs(l1[i] - l2[i])));
  {
    const std::vector<float> hq = q.download(), hk = ck.download(), hv = cv.download();
    for (int s = 0; s < 16; ++s) {
      const int b = static_cast<int>((static_cast<long long>(s) * 7919) % B);
      p.max_ref_err = std::max(p.max_ref_err, reference_row_error(hq, hk, hv, o1, l1, b, s % kHeads, s % kQueries, Nc));
    }
  }

  p.shared_ms = artabpfn::bench::median_event_ms(0, warmup, reps, shared, flush);
  p.expanded_ms = artabpfn::bench::median_event_ms(0, warmup, reps, expand, flush);
  p.fused_ms = artabpfn::bench::median_event_ms(0, warmup, reps, fused, flush);
  const double io = 4.0 * (2.0 * static_cast<double>(q_elems) + static_cast<double>(rows) + B);
  p.shared_bytes = io + 8.0 * static_cast<double>(ctx_elems);
  p.expanded_bytes = io + 8.0 * static_cast<double>(exp_elems);
  p.flops = 4.0 * kHeadDim * static_cast<double>(Nc) * static_cast<double>(rows);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--json FILE]\n", argv[0]);
      return 2;
    }
  }
  try {
    cudaDeviceProp prop{};
    ARTABPFN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const int warmup = quick ? 2 : 3, reps = quick ? 7 : 21;
    std::printf("device: %s, %d SMs, L2 %.0f MB, %.1f GiB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize / 1e6,
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
    std::printf("problem: H=%d Dh=%d Lq=%d (decode step), fused buffer %d/%d; medians of %d runs after %d warm-ups, L2 flushed\n",
                kHeads, kHeadDim, kQueries, kBufferLength, kBufferCapacity, reps, warmup);

    // Ceilings, measured now.
    Flusher flush(256u << 20);
    const artabpfn::bench::MeasuredCeilings ceilings = artabpfn::bench::measure_ceilings(quick);
    const double copy_gbs = ceilings.copy_bytes_per_s / 1e9, fma_gflops = ceilings.fma_flops_per_s / 1e9;
    std::printf("ceilings (measured): copy %.0f GB/s (read + write), FP32 FMA %.0f GFLOP/s\n\n", copy_gbs, fma_gflops);

    std::vector<Point> points;
    for (int nc : {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}) points.push_back(run_point("Nc", 256, nc, warmup, reps, flush));
    for (int b : {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536}) points.push_back(run_point("B", b, 256, warmup, reps, flush));

    std::printf("%-5s %6s %6s | %9s %8s %5s %9s %5s | %9s %8s %5s | %7s | %9s | %9s %9s\n", "sweep", "B", "Nc", "shared_ms",
                "GB/s", "%bw", "GFLOP/s", "%fma", "expand_ms", "GB/s", "%bw", "speedup", "fused_ms", "|sh-exp|", "ref_err");
    for (const Point& p : points) {
      if (p.skipped) {
        std::printf("%-5s %6d %6d | skipped: needs %.1f GiB\n", p.sweep.c_str(), p.batch, p.context, p.needs_gib);
        continue;
      }
      const double sb = p.shared_bytes / (p.shared_ms * 1e-3) / 1e9, eb = p.expanded_bytes / (p.expanded_ms * 1e-3) / 1e9;
      const double sf = p.flops / (p.shared_ms * 1e-3) / 1e9;
      std::printf("%-5s %6d %6d | %9.4f %8.1f %5.1f %9.1f %5.1f | %9.4f %8.1f %5.1f | %7.2f | %9.4f | %9.2g %9.2g\n",
                  p.sweep.c_str(), p.batch, p.context, p.shared_ms, sb, 100.0 * sb / copy_gbs, sf, 100.0 * sf / fma_gflops,
                  p.expanded_ms, eb, 100.0 * eb / copy_gbs, p.expanded_ms / p.shared_ms, p.fused_ms,
                  p.max_shared_vs_expanded, p.max_ref_err);
    }
    if (!json.empty()) {
      FILE* f = std::fopen(json.c_str(), "w");
      if (!f) throw std::runtime_error("cannot write " + json);
      std::fprintf(f, "{\"device\": \"%s\", \"time\": %lld, \"heads\": %d, \"head_dim\": %d, \"queries\": %d,\n", prop.name,
                   static_cast<long long>(std::time(nullptr)), kHeads, kHeadDim, kQueries);
      std::fprintf(f, " \"copy_gbs\": %.3f, \"fma_gflops\": %.3f, \"points\": [\n", copy_gbs, fma_gflops);
      for (std::size_t i = 0; i < points.size(); ++i) {
        const Point& p = points[i];
        std::fprintf(f,
                     "  {\"sweep\": \"%s\", \"batch\": %d, \"context\": %d, \"skipped\": %s, \"needs_gib\": %.3f, "
                     "\"shared_ms\": %.6f, \"expanded_ms\": %.6f, \"fused_ms\": %.6f, \"shared_bytes\": %.0f, "
                     "\"expanded_bytes\": %.0f, \"flops\": %.0f, \"max_shared_vs_expanded\": %.3g, \"max_ref_err\": %.3g}%s\n",
                     p.sweep.c_str(), p.batch, p.context, p.skipped ? "true" : "false", p.needs_gib, p.shared_ms,
                     p.expanded_ms, p.fused_ms, p.shared_bytes, p.expanded_bytes, p.flops, p.max_shared_vs_expanded,
                     p.max_ref_err, i + 1 < points.size() ? "," : "");
      }
      std::fprintf(f, "]}\n");
      std::fclose(f);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "attention_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
