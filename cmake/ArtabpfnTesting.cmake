# artabpfn_discover_tests(<target> LABELS <label>... [GPU])
# Registers every GoogleTest test of <target> with CTest, one by one. Discovery runs when ctest
# runs (listing tests never needs a GPU). Each test gets its labels, the test environment (where
# fixtures are) and, for GPU tests, one unit of the `gpus` resource, so that
# `ctest --resource-spec-file` spreads them over the GPUs of a runner. GoogleTest's skip marker
# is reported as a CTest skip by gtest_discover_tests itself.
#
# Why a second include file: gtest_discover_tests flattens its PROPERTIES through a generated
# script, which splits list values (two labels become a label and a bogus property). The file
# written here runs after discovery and sets the properties on the discovered names.
function(artabpfn_discover_tests target)
  cmake_parse_arguments(ARG "GPU" "" "LABELS" ${ARGN})
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 TEST_LIST ${target}_TESTS)
  set(properties "LABELS \"${ARG_LABELS}\"")
  if(ARTABPFN_TEST_ENVIRONMENT)
    string(APPEND properties " ENVIRONMENT \"${ARTABPFN_TEST_ENVIRONMENT}\"")
  endif()
  if(ARG_GPU)
    string(APPEND properties " RESOURCE_GROUPS \"gpus:1\"")
  endif()
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_properties.cmake")
  file(WRITE "${script}"
    "foreach(test_name IN LISTS ${target}_TESTS)\n"
    "  set_tests_properties(\"\${test_name}\" PROPERTIES ${properties})\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()
