# Project-wide helpers: warnings for our own code, the optimisation of code off the message
# path, and Catch2 test registration.

# Warnings are errors for our code only; third-party headers come from system include dirs.
function(sluice_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(SLUICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Code no message passes through (configuration, command lines, launch, the monitors' ticks,
# the /metrics server, the bridge's handshake, the tests themselves) builds at -O1 where the
# build type asks for -O2 or -O3. It compiles about 28 % faster (metrics_http.cpp 21 -> 15 s,
# overflow_step.cpp 8.5 -> 6.4 s on the 2-core VM), and the first demo and CI are compile-bound.
# The message path (inbox, backpressure, governance, the agent loop, the bridge's links, the
# load generator, the bindings, the benchmarks) keeps the build type's level. Other levels
# (the sanitizer builds' -Og) are left as they are.
string(TOUPPER "${CMAKE_BUILD_TYPE}" _sluice_build_type)
set(SLUICE_COLD_CODE_OPTIONS "")
if(" ${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_sluice_build_type}} " MATCHES " -O[23] ")
  set(SLUICE_COLD_CODE_OPTIONS -O1)
endif()

# sluice_cold_code(<target>...): the targets are off the message path (see above).
function(sluice_cold_code)
  foreach(target ${ARGN})
    target_compile_options(${target} PRIVATE ${SLUICE_COLD_CODE_OPTIONS})
  endforeach()
endfunction()

# sluice_add_test(<name> SOURCES ... [LIBS ...] [LABELS ...])
# One Catch2 executable; every TEST_CASE becomes its own ctest entry (catch_discover_tests).
function(sluice_add_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE sluice_catch_main ${T_LIBS})
  sluice_warnings(${name})
  sluice_cold_code(${name})
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

# sluice_feature(<name> [COLD] LOGIC <src>... [LOGIC_LIBS ...] [ACTORS <src>... ACTORS_LIBS ...]
#                [VERB <src> VERB_LIBS ...])
# The targets of a feature folder (docs/architecture.md section 1): sluice_<name> without CAF,
# built in every build; sluice_<name>_actors, sluice_<name>_verb and the executable
# sluice-<name> only when CAF is. The verb is always off the message path (sluice_cold_code);
# COLD says the whole feature is.
function(sluice_feature name)
  cmake_parse_arguments(F "COLD" "" "LOGIC;LOGIC_LIBS;ACTORS;ACTORS_LIBS;VERB;VERB_LIBS" ${ARGN})
  if(F_LOGIC)
    add_library(sluice_${name} STATIC ${F_LOGIC})
    target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(sluice_${name} PUBLIC sluice_runtime ${F_LOGIC_LIBS})
    sluice_warnings(sluice_${name})
    if(F_COLD)
      sluice_cold_code(sluice_${name})
    endif()
  endif()
  if(NOT SLUICE_WITH_CAF)
    return()
  endif()
  if(F_ACTORS)
    add_library(sluice_${name}_actors STATIC ${F_ACTORS})
    target_include_directories(sluice_${name}_actors PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(sluice_${name}_actors PUBLIC ${F_ACTORS_LIBS} CAF::core)
    sluice_warnings(sluice_${name}_actors)
    if(F_COLD)
      sluice_cold_code(sluice_${name}_actors)
    endif()
  endif()
  if(F_VERB)
    add_library(sluice_${name}_verb STATIC ${F_VERB})
    target_link_libraries(sluice_${name}_verb PUBLIC ${F_VERB_LIBS} sluice_cli_support)
    sluice_warnings(sluice_${name}_verb)
    sluice_cold_code(sluice_${name}_verb)
    # The feature's executable, sluice-<name>: the verb file's add_feature_verbs under the main
    # all of them share (cli/actor_main.cpp, compiled once). `sluice <verb>` execs it from its
    # own directory (runtime/cli/actor_verbs.hpp), so it is built and installed beside sluice.
    add_executable(sluice-${name})
    target_link_libraries(sluice-${name} PRIVATE sluice_actor_main sluice_${name}_verb)
    set_target_properties(sluice-${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/cli)
    install(TARGETS sluice-${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    set_property(GLOBAL APPEND PROPERTY SLUICE_ACTOR_EXECUTABLES sluice-${name})
  endif()
endfunction()
