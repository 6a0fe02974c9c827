# Project-wide helpers: warnings for our own code, and Catch2 test registration.

# Warnings are errors for our code only; third-party headers come from system include dirs.
function(sluice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(SLUICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# sluice_add_test(<name> SOURCES ... [LIBS ...] [LABELS ...])
# One Catch2 executable; every TEST_CASE becomes its own ctest entry (catch_discover_tests).
function(sluice_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE sluice_catch_main ${T_LIBS})
  sluice_warnings(${name})
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  # Stress tests are multi-process and want both cores to themselves.
  set(serial FALSE)
  if("stress" IN_LIST labels)
    set(serial TRUE)
  endif()
  catch_discover_tests(${name}
    TEST_PREFIX "${name}: "
    PROPERTIES LABELS "${labels}" RUN_SERIAL ${serial} SKIP_RETURN_CODE 77
    DISCOVERY_TIMEOUT 30)
endfunction()
