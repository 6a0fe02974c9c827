# cmake -DEXE=<sluice> -P check_needed.cmake: fails unless the executable needs only glibc's
# shared libraries (see cli/CMakeLists.txt: start-up).
execute_process(COMMAND readelf -d ${EXE} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${EXE} failed (${rc}): is binutils installed?")
endif()
string(REGEX MATCHALL "Shared library: \\[[^]]+\\]" needed "${dynamic}")
foreach(lib IN LISTS needed)
  if(NOT lib MATCHES "\\[(libc|libm|ld-linux-x86-64|ld-linux-aarch64)\\.so")
    message(FATAL_ERROR "${EXE} loads ${lib}: it must link libstdc++ statically and build "
                        "spdlog/fmt/toml++ in (cli/embed/); a new dependency needs the same")
  endif()
endforeach()
