// conformance_plain_adapter --arithmetic A VECTORS RESULTS [adapter options]: the plain
// implementation of one arithmetic (float32, tf32-rn, tf32-rz, bf16, fp16) run on a vector set,
// for the contracts it serves. Each passes the precision it belongs to (its error is the baseline
// of that precision's tolerance) and, below float32, must fail `artabpfn check --precision float32`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "conformance/plain/implementation.hpp"

int main(int argc, char** argv) {
  using namespace artabpfn::conformance;
  std::vector<char*> rest{argv[0]};
  std::string arithmetic;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--arithmetic" && i + 1 < argc) arithmetic = argv[++i];
    else rest.push_back(argv[i]);
  }
  try {
    const plain::Arithmetic a = plain::parse_arithmetic(arithmetic.empty() ? "float32" : arithmetic);
    const std::string name = "conformance_plain_adapter (" + std::string(plain::arithmetic_name(a)) + ")";
    return adapter_main(int(rest.size()), rest.data(), plain::plain_implementation(a), name);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conformance_plain_adapter: %s\n", e.what());
    return 2;
  }
}
