#include "reference/reference.hpp"

namespace artabpfn::reference {
ARTABPFN_REFERENCE_JOBS(, double)
}  // namespace artabpfn::reference
