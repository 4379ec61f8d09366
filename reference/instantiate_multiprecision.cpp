#include "reference/reference.hpp"

namespace artabpfn::reference {
ARTABPFN_REFERENCE_JOBS(, Multiprecision)
}  // namespace artabpfn::reference
