// conformance_cpu_adapter VECTORS RESULTS: the CPU implementation (this folder) run on every
// conformance case; ARTABPFN_PRECISION=<float32|tf32|bf16|fp16> chooses the precision of its
// attention contracts and merge (precision.hpp; the model jobs run in float32 only), and
// ARTABPFN_MUTANT=<name> plants one fault (mutants.hpp), in the precision that fault targets.
#include <cstdio>
#include <stdexcept>

#include "conformance/adapter.hpp"
#include "conformance/float32_cpu/implementation.hpp"
#include "conformance/float32_cpu/mutants.hpp"

namespace cpu = artabpfn::conformance::cpu;

int main(int argc, char** argv) {
  cpu::Precision precision{};
  try {
    precision = cpu::precision_from_environment();
    if (const cpu::MutantInfo* m = cpu::active_mutant_info()) {
      if (m->precision != cpu::Precision::kFloat32 && m->precision != precision)
        throw std::invalid_argument(std::string("mutant ") + m->name + " is a fault of a " + cpu::precision_name(m->precision) +
                                    " kernel: set ARTABPFN_PRECISION=" + cpu::precision_name(m->precision));
      std::fprintf(stderr, "conformance_cpu_adapter: mutant %s planted: %s\n", m->name, m->description);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conformance_cpu_adapter: %s\n", e.what());
    return 2;
  }
  if (precision != cpu::Precision::kFloat32)
    std::fprintf(stderr, "conformance_cpu_adapter: %s arithmetic (attention contracts and merge only)\n",
                 cpu::precision_name(precision));
  return artabpfn::conformance::adapter_main(argc, argv, artabpfn::conformance::float32_cpu_implementation(precision),
                                             "conformance_cpu_adapter");
}
