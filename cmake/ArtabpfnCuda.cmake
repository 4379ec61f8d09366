# CUDA is a language of the project when a compiler exists; without one, everything that is
# not CUDA still builds and tests (GPU tests are then not built, and the CPU suite says so).
set(ARTABPFN_CUDA_ENABLED OFF)
if(ARTABPFN_WITH_CUDA)
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200; override with -DCMAKE_CUDA_ARCHITECTURES=...
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    # Static runtime: binaries built here run on GPU hosts that have only a driver.
    set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(ARTABPFN_CUDA_ENABLED ON)
    message(STATUS "artabpfn: CUDA enabled for architectures ${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "artabpfn: no CUDA compiler found; building the CPU parts only")
  endif()
endif()
