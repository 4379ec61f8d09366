# cmake -DSRC=<checkout> -DOUT=<header> -P write_commit.cmake
# Writes a header defining ARTABPFN_BENCH_COMMIT: ARTABPFN_GIT_COMMIT from the build's environment
# when set (as verify does: a copied tree's .git may be absent or stale), else the checkout's HEAD,
# "+dirty" where tracked files differ from it, "unknown" without git. Rewritten only when it
# changes (so a build recompiles only when the commit does).
if(NOT "$ENV{ARTABPFN_GIT_COMMIT}" STREQUAL "")
  set(commit "$ENV{ARTABPFN_GIT_COMMIT}")
else()
  execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE commit
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  if(failed OR NOT commit)
    set(commit unknown)
  else()
    execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY "${SRC}"
                    OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(changes)
      string(APPEND commit "+dirty")
    endif()
  endif()
endif()
set(text "#pragma once\n#define ARTABPFN_BENCH_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
