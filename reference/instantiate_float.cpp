#include "reference/reference.hpp"

namespace artabpfn::reference {
ARTABPFN_REFERENCE_JOBS(, float)
}  // namespace artabpfn::reference
