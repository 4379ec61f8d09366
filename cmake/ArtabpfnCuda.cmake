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
    # Static runtime: binaries built here run on GPU hosts that have only a driver.
    set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
    enable_language(CUDA)
    # CMake 3.25 does not know nvcc's C++20 flag (nvcc 12+ accepts -std=c++20); set it after
    # enable_language so the compiler checks run without a standard.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(ARTABPFN_CUDA_ENABLED ON)
    message(STATUS "artabpfn: CUDA enabled for architectures ${CMAKE_CUDA_ARCHITECTURES}")
  else()
    message(STATUS "artabpfn: no CUDA compiler found; building the CPU parts only")
  endif()
endif()
