// attention_bench: the attention kernels of kernels/attention.hpp, each validated before anything
// is timed (as llm.c's dev/cuda benchmarks do). Cases (attention_case.hpp): every kernel, at every
// head-dim class the kernels compile (kernels/attention/row_tile_attention.cu: Dh <= 8, 16, 32 at
// two lanes a row, 64, 128, 256), each at its widest Dh (the exact instance) and at one Dh inside
// it (the general instance), and at sizes (B, Nc) that reach both the two- and the four-blocks-an-
// SM instances (kernels::attention_blocks_per_sm).
//
//   1. validation  every case against the double reference under the suite's tolerance rule
//                  (CaseData::validate). A failure prints what failed and exits 1 before anything
//                  is timed; so do sizes that miss an instance some launch takes.
//   2. ceilings    FP32 FMA rate and device copy bandwidth, measured now (bench/ceilings)
//   3. timing      every validated case: median of CUDA-event intervals around single launches
//                  after warm-ups, L2 flushed before each; then the checked samples' output must
//                  still be bitwise what validation saw. Against the floor max(FLOPs / FMA rate,
//                  bytes / copy rate) of the case's count: % of floor = floor / median.
// The JSON (--json) carries the stamp (bench/stamp), the validation and the timings.
//
// Exit status: 0 done; 1 validation failed, a timed output changed, or an error; 3 no GPU; CLI11's
// codes for bad arguments.
#include <CLI/CLI.hpp>
#include <cuda_runtime.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench/attention/attention_case.hpp"
#include "bench/ceilings/ceilings.hpp"
#include "bench/event_timing.hpp"
#include "bench/stamp/stamp.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device.hpp"
#include "tests/support/gpu/attention_harness.hpp"
#include "tolerance/ratio_log.hpp"

namespace {

using namespace artabpfn;
using json = nlohmann::ordered_json;

enum class Mode { kFull, kQuick, kValidateOnly };

// Each class's widest Dh and one inside it (5 and 30 not a multiple of 4: padded, 4-byte copies).
const std::vector<int> kDefaultHeadDims = {5, 8, 12, 16, 30, 32, 48, 64, 100, 128, 130, 256};
constexpr std::size_t kFlushBytes = 256u << 20;  // cleared before every timed launch: several times any L2

struct Size {
  int batch, context;
};

// The smallest batch (a power of two plus one: a partial last tile) whose decode launch at Dh 32
// takes the four-blocks-an-SM instance on this device; 0 where none up to 2^20 does.
int four_block_batch() {
  for (int b = 1; b <= (1 << 20); b *= 2)
    if (bench::Case{bench::Kernel::kShared, 32, b, 1}.blocks_per_sm() == 4) return b + 1;
  return 0;
}

std::vector<Size> sizes_for(Mode mode) {
  std::vector<Size> sizes;
  if (mode == Mode::kValidateOnly) {
    sizes = {{3, 5}, {5, 300}};  // 300 > the 128 keys a step stages
  } else if (mode == Mode::kQuick) {
    sizes = {{256, 256}, {4096, 256}, {256, 4096}};
  } else {
    for (int nc : {64, 256, 1024, 4096, 16384}) sizes.push_back({256, nc});
    for (int b : {1, 16, 1024, 4096, 16384, 65536}) sizes.push_back({b, 256});
  }
  const int four = four_block_batch();
  bool reaches_four = false;
  for (const Size& s : sizes) reaches_four |= four > 0 && s.batch >= four - 1;
  if (four > 0 && !reaches_four) sizes.push_back({four, 40});
  return sizes;
}

json case_json(const bench::Case& c) {
  return {{"kernel", bench::kernel_name(c.kernel)},
          {"head_dim", c.head_dim},
          {"batch", c.batch},
          {"context", c.context},
          {"blocks_per_sm", c.blocks_per_sm()}};
}

// Whether the case fits in 90% of the free device memory; else marks the record skipped.
bool fits(const bench::Case& c, json& rec) {
  std::size_t free_bytes = 0, total = 0;
  ARTABPFN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  if (c.device_bytes() <= 0.9 * double(free_bytes)) return true;
  rec["status"] = "skipped";
  rec["reason"] = fmt::format("needs {:.1f} GiB, {:.1f} GiB free", c.device_bytes() / double(1 << 30),
                              double(free_bytes) / double(1 << 30));
  return false;
}

void write_json(const std::string& path, const json& out) {
  if (path.empty()) return;
  std::ofstream file(path);
  file << out.dump(1) << "\n";
  if (!file) throw std::runtime_error("cannot write " + path);
}

// A validated case: what timing must find again.
struct Validated {
  bench::Case c;
  std::vector<int> samples;
  std::uint64_t bits;
};

// Every instance some launch of a row-tile kernel at this head dim can take (the blocks an SM at
// the smallest and the largest batch) was validated.
std::string missing_instances(const std::vector<int>& head_dims, const std::vector<Validated>& validated) {
  std::map<std::pair<bench::Kernel, int>, std::set<int>> seen;
  for (const Validated& v : validated) seen[{v.c.kernel, v.c.head_dim}].insert(v.c.blocks_per_sm());
  std::string missing;
  for (const bench::Kernel k : bench::kAllKernels)
    for (const int dh : head_dims) {
      if (k == bench::Kernel::kMerge) continue;
      for (const int batch : {1, 1 << 20}) {
        const int blocks = bench::Case{k, dh, batch, 1}.blocks_per_sm();
        if (!seen[{k, dh}].count(blocks))
          missing += fmt::format("{} Dh {}: the {}-blocks-an-SM instance was not validated\n", bench::kernel_name(k), dh, blocks);
      }
    }
  return missing;
}

int run(Mode mode, const std::vector<int>& head_dims, const std::string& json_path) {
  const bool quick = mode == Mode::kQuick;
  const char* mode_name = mode == Mode::kFull ? "full" : (quick ? "quick" : "validate-only");
  json out = {{"schema", "artabpfn.attention_bench"}, {"schema_version", 1}};
  bench::stamp(out);
  out["mode"] = mode_name;
  out["problem"] = {
      {"heads", bench::kHeads},
      {"decode", fmt::format("Lq {} a sample over the context and a buffer of {} valid rows of capacity {}",
                             bench::kDecodeQueries, bench::kDecodeBufferLength, bench::kDecodeBufferCapacity)},
      {"teacher_forcing", fmt::format("Lq {0} a sample ({1} buffer rows, {1} targets) over the context and {1} buffer rows",
                                      2 * bench::kTeacherForcingTargets, bench::kTeacherForcingTargets)},
      {"tasks", "one task: every sample reads the same context"},
      {"values", "q uniform in [-3, 3), K and V in [-1, 1), from a hash of the element index"}};
  out["tolerance"] = fmt::format(
      "up to 8 samples a case (evenly spread, first and last included) against reference<double>: max |err| of out "
      "and of lse within {} x that of the plain float32 reference + {} float32 ulps of the largest magnitude; "
      "expanded bitwise equal to shared",
      tolerance::kAttentionFactor, tolerance::kAttentionFloor.ulps);
  const auto fail = [&](const std::string& status, const std::string& message) {
    out["status"] = status;
    write_json(json_path, out);
    fmt::print(stderr, "attention_bench: {}; nothing timed:\n{}", status, message);
    return 1;
  };
  fmt::print("{}\nmode {}, H {}, head dims {}\n\n", bench::stamp_line(), mode_name, bench::kHeads,
             fmt::join(head_dims, " "));

  // 1. Validation, of every case before any is timed.
  const std::vector<Size> sizes = sizes_for(mode);
  json& validation = out["validation"] = json::array();
  std::vector<Validated> validated;
  for (const int dh : head_dims) {
    int checked = 0, skipped = 0;
    for (const Size& size : sizes)
      for (const bench::Kernel k : bench::kAllKernels) {
        const bench::Case c{k, dh, size.batch, size.context};
        json rec = case_json(c);
        if (!fits(c, rec)) {
          ++skipped;
          validation.push_back(rec);
          continue;
        }
        const bench::Validation v = bench::CaseData(c).validate();
        rec["samples"] = v.samples;
        rec["status"] = v.ok ? "ok" : "failed";
        if (!v.ok) rec["failure"] = v.failure;
        validation.push_back(rec);
        if (!v.ok) return fail("validation failed", v.failure);
        validated.push_back({c, v.samples, v.bits});
        ++checked;
      }
    fmt::print("validated Dh {:>3}: {} cases ok, {} skipped (memory)\n", dh, checked, skipped);
  }
  if (const std::string missing = missing_instances(head_dims, validated); !missing.empty())
    return fail("instances not validated", missing);
  out["error_ratios"] = tolerance::RatioLog::global().summary("attention");
  fmt::print("{}\n", out["error_ratios"].get<std::string>());
  if (mode == Mode::kValidateOnly) {
    out["status"] = "validated";
    write_json(json_path, out);
    return 0;
  }

  // 2. Ceilings.
  const bench::MeasuredCeilings m = bench::measure_ceilings(quick);
  const bench::Ceilings ceilings{m.fma_flops_per_s, m.copy_bytes_per_s};
  out["ceilings"] = {{"fma_flops_per_s", m.fma_flops_per_s},
                     {"copy_bytes_per_s", m.copy_bytes_per_s},
                     {"properties_flops_per_s", m.properties_flops_per_s},
                     {"properties_bytes_per_s", m.properties_bytes_per_s}};
  fmt::print("\nceilings (measured): FP32 FMA {:.1f} TFLOP/s, copy {:.0f} GB/s (read + write)\n", m.fma_flops_per_s / 1e12,
             m.copy_bytes_per_s / 1e9);

  // 3. Timing.
  const int warmups = quick ? 2 : 3, repeats = quick ? 7 : 21;
  out["timing"] = {{"warmups", warmups},
                   {"repeats", repeats},
                   {"l2_flush_bytes", kFlushBytes},
                   {"method", "median of CUDA-event intervals around single launches on the legacy default stream, "
                              "the L2 cleared (cudaMemsetAsync) before each"}};
  kernels::DeviceBuffer<char> flush_scratch(kFlushBytes);
  const auto flush = [&] { ARTABPFN_CUDA_CHECK(cudaMemsetAsync(flush_scratch.data(), 0, kFlushBytes)); };
  json& points = out["points"] = json::array();
  fmt::print("medians of {} launches after {} warm-ups, L2 flushed\n\n{:<23} {:>3} {:>6} {:>6} {:>6} {:>11} {:>8} {:>5} "
             "{:>9} {:>5} {:>7}\n",
             repeats, warmups, "kernel", "Dh", "B", "Nc", "blk/SM", "median us", "GB/s", "%bw", "GFLOP/s", "%fma", "%floor");
  for (const Validated& t : validated) {
    json rec = case_json(t.c);
    if (!fits(t.c, rec)) {
      points.push_back(rec);
      continue;
    }
    bench::CaseData data(t.c);
    const double ms = bench::median_event_ms(0, warmups, repeats, [&] { data.launch(); }, flush);
    ARTABPFN_CUDA_CHECK(cudaDeviceSynchronize());
    if (data.output_bits(t.samples) != t.bits)
      return fail("timed output changed", t.c.describe() + ": the timed launches left other bits than the validated launch\n");
    const bench::Cost cost = t.c.cost();
    const bench::Floor floor = bench::time_floor(cost, ceilings);
    const double seconds = ms * 1e-3;
    rec["status"] = "ok";
    rec["median_ms"] = ms;
    rec["flops"] = cost.flops;
    rec["bytes"] = cost.bytes;
    rec["floor_s"] = floor.floor_s;
    rec["bound"] = floor.bound;
    rec["floor_fraction"] = bench::floor_fraction(floor, seconds);
    points.push_back(rec);
    fmt::print("{:<23} {:>3} {:>6} {:>6} {:>6} {:>11.2f} {:>8.1f} {:>5.1f} {:>9.1f} {:>5.1f} {:>7.1f}\n",
               bench::kernel_name(t.c.kernel), t.c.head_dim, t.c.batch, t.c.context, rec["blocks_per_sm"].get<int>(),
               ms * 1e3, cost.bytes / seconds / 1e9, 100.0 * cost.bytes / seconds / m.copy_bytes_per_s,
               cost.flops / seconds / 1e9, 100.0 * cost.flops / seconds / m.fma_flops_per_s,
               100.0 * rec["floor_fraction"].get<double>());
    std::fflush(stdout);
  }
  out["status"] = "timed";
  write_json(json_path, out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attention_bench: the attention kernels, validated against the double reference, then timed"};
  bool quick = false, validate_only = false;
  std::vector<int> head_dims = kDefaultHeadDims;
  std::string json_path;
  CLI::Option* quick_flag = app.add_flag("--quick", quick, "fewer sizes and repeats");
  app.add_flag("--validate-only", validate_only,
               "validate on small sizes that still reach every instance, and time nothing (the GPU smoke test)")
      ->excludes(quick_flag);
  app.add_option("--head-dims", head_dims, "head dims (default: each class's widest and one inside it)")
      ->check(CLI::Range(1, 256));
  app.add_option("--json", json_path, "write the stamp, the validation and the timings to this file");
  CLI11_PARSE(app, argc, argv);
  if (const std::string reason = kernels::gpu_unavailable_reason(); !reason.empty()) {
    fmt::print(stderr, "attention_bench: no CUDA GPU: {}\n", reason);
    return 3;
  }
  try {
    return run(validate_only ? Mode::kValidateOnly : (quick ? Mode::kQuick : Mode::kFull), head_dims, json_path);
  } catch (const std::exception& e) {
    fmt::print(stderr, "attention_bench: {}\n", e.what());
    return 1;
  }
}
