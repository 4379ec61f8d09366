# Registration of the test executables with CTest.
#
# Every test carries labels of two kinds (docs/testing.md):
#   - what it is and where it runs: cpu or gpu, properties, edge, parity, quick, slow, conformance,
#     mutation, python, sanitize (the LABELS argument);
#   - its component, one of ARTABPFN_TEST_COMPONENTS (the COMPONENT argument), so that
#     `ctest -L attention` picks every test of the attention kernels whatever its kind.
# GoogleTest suite names follow the same scheme: <Component><Kind>, e.g. AttentionProperties,
# LayerEdgeCases, ReferenceParity, IoTests.
set(ARTABPFN_TEST_COMPONENTS attention layer decode engine io conformance cli reference tolerance bench
    CACHE INTERNAL "Component labels of the tests")

# Fails the configuration for a component that is not in ARTABPFN_TEST_COMPONENTS.
function(artabpfn_check_components target)
  if(NOT ARGN)
    message(FATAL_ERROR "${target}: COMPONENT is required (one of: ${ARTABPFN_TEST_COMPONENTS})")
  endif()
  foreach(component IN LISTS ARGN)
    if(NOT component IN_LIST ARTABPFN_TEST_COMPONENTS)
      message(FATAL_ERROR "${target}: unknown component '${component}' (one of: ${ARTABPFN_TEST_COMPONENTS})")
    endif()
  endforeach()
endfunction()

# artabpfn_discover_tests(<target> COMPONENT <component>... LABELS <label>... [GPU])
# Registers every GoogleTest test of <target> with CTest, one by one. Discovery runs when ctest
# runs (listing tests never needs a GPU). Each test gets its labels, its component, the test
# environment (where fixtures are) and, for GPU tests, one unit of the `gpus` resource, so that
# `ctest --resource-spec-file` spreads them over the GPUs of a runner. GoogleTest's skip marker
# is reported as a CTest skip by gtest_discover_tests itself.
#
# COMPONENT: the first is the executable's; a test whose suite name starts with another listed
# component's name (capitalised: DecodeProperties for decode) gets that one instead.
#
# Why a second include file: gtest_discover_tests flattens its PROPERTIES through a generated
# script, which splits list values (two labels become a label and a bogus property). The file
# written here runs after discovery and sets the properties on the discovered names.
function(artabpfn_discover_tests target)
  cmake_parse_arguments(ARG "GPU" "" "COMPONENT;LABELS" ${ARGN})
  artabpfn_check_components(${target} ${ARG_COMPONENT})
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60 TEST_LIST ${target}_TESTS)
  set(labels ${ARG_LABELS})
  list(REMOVE_DUPLICATES labels)
  set(properties "")
  if(ARTABPFN_TEST_ENVIRONMENT)
    string(APPEND properties " ENVIRONMENT \"${ARTABPFN_TEST_ENVIRONMENT}\"")
  endif()
  if(ARG_GPU)
    string(APPEND properties " RESOURCE_GROUPS \"gpus:1\"")
  endif()
  list(POP_FRONT ARG_COMPONENT main)
  set(by_suite "")
  foreach(component IN LISTS ARG_COMPONENT)
    string(SUBSTRING "${component}" 0 1 first)
    string(SUBSTRING "${component}" 1 -1 rest)
    string(TOUPPER "${first}" first)
    string(APPEND by_suite "  if(suite MATCHES \"^${first}${rest}\")\n    set(component ${component})\n  endif()\n")
  endforeach()
  set(script "${CMAKE_CURRENT_BINARY_DIR}/${target}_properties.cmake")
  file(WRITE "${script}"
    "foreach(test_name IN LISTS ${target}_TESTS)\n"
    "  # The suite: before the first '.', after an instantiation's 'Prefix/'.\n"
    "  string(REGEX REPLACE \"[.].*$\" \"\" suite \"\${test_name}\")\n"
    "  string(REGEX REPLACE \"^.*/\" \"\" suite \"\${suite}\")\n"
    "  set(component ${main})\n"
    "${by_suite}"
    "  set_tests_properties(\"\${test_name}\" PROPERTIES LABELS \"${labels};\${component}\"${properties})\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${script}")
endfunction()

# artabpfn_test(<name> COMPONENT <component>... LABELS <label>... [GPU] SOURCES <files...>
#               LIBS <targets...>): a GoogleTest executable whose tests CTest discovers one by one
# (artabpfn_discover_tests), linked with the test support library and gtest_main.
function(artabpfn_test name)
  cmake_parse_arguments(ARG "GPU" "" "COMPONENT;LABELS;SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} artabpfn_test_support GTest::gmock GTest::gtest_main)
  artabpfn_warnings(${name})
  set(gpu "")
  if(ARG_GPU)
    set(gpu GPU)
  endif()
  artabpfn_discover_tests(${name} COMPONENT ${ARG_COMPONENT} LABELS ${ARG_LABELS} ${gpu})
endfunction()
