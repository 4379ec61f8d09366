#include "bench/stamp/stamp.hpp"

#include <ctime>

#include "bench_commit.hpp"  // generated at build time (write_commit.cmake)
#include "kernels/device.hpp"

namespace artabpfn::bench {
namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

void stamp(nlohmann::ordered_json& out) {
  const kernels::GpuInfo info = kernels::gpu_info();
  out["commit"] = ARTABPFN_BENCH_COMMIT;
  out["device"] = {{"name", info.name},
                   {"compute_capability", info.compute_capability},
                   {"sms", info.sms},
                   {"memory_bytes", info.memory_bytes},
                   {"l2_bytes", info.l2_bytes},
                   {"sm_clock_khz", info.sm_clock_khz},
                   {"memory_clock_khz", info.memory_clock_khz},
                   {"driver_cuda_version", info.driver_cuda_version},
                   {"runtime_version", info.runtime_version},
                   {"description", kernels::gpu_description()}};
  out["date"] = utc_now();
}

std::string stamp_line() { return std::string("commit ") + ARTABPFN_BENCH_COMMIT + ", " + kernels::gpu_description(); }

}  // namespace artabpfn::bench
