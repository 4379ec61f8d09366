// artabpfn._core: the C++ library for the Python package artabpfn (python/artabpfn). Bad input
// (artabpfn::InputError) raises ValueError with the library's message.
#include "module.hpp"

#include <nanobind/nanobind.h>

#include "artabpfn/error.hpp"

NB_MODULE(_core, m) {
  namespace nb = nanobind;
  nb::register_exception_translator([](const std::exception_ptr& error, void*) {
    try {
      std::rethrow_exception(error);
    } catch (const artabpfn::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  artabpfn::python::add_model(m);
  artabpfn::python::add_reference(m);
  artabpfn::python::add_conformance(m);
}
