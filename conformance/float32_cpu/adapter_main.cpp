// conformance_cpu_adapter VECTORS RESULTS: the plain float32 CPU implementation (this folder)
// run on every conformance case; with ARTABPFN_MUTANT=<name>, one planted fault (mutants.hpp).
#include <cstdio>

#include "conformance/adapter.hpp"
#include "conformance/float32_cpu/implementation.hpp"
#include "conformance/float32_cpu/mutants.hpp"

int main(int argc, char** argv) {
  try {
    const auto m = artabpfn::conformance::cpu::active_mutant();
    for (const auto& info : artabpfn::conformance::cpu::mutants())
      if (info.id == m) std::fprintf(stderr, "conformance_cpu_adapter: mutant %s planted: %s\n", info.name, info.description);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conformance_cpu_adapter: %s\n", e.what());
    return 2;
  }
  return artabpfn::conformance::adapter_main(argc, argv, artabpfn::conformance::float32_cpu_implementation(), "conformance_cpu_adapter");
}
