#pragma once
// The parts of the extension module artabpfn._core, each registered by its own file.
#include <nanobind/nanobind.h>

namespace artabpfn::python {

void add_model(nanobind::module_& m);        // model.cpp: Model, density and sample, the CUDA queries
void add_reference(nanobind::module_& m);    // reference.cpp: the double reference's primitives and jobs
void add_conformance(nanobind::module_& m);  // conformance.cpp: vectors, the checker, the tolerance rule

}  // namespace artabpfn::python
