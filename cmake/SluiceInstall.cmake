# What `cmake --install` lays out, declared by each folder for its own targets
# (cmake/SluicePackaging.cmake adds the CMake package, pkg-config, man page, completions and
# the .deb around them):
#   bin/sluice                                  cli/
#   bin/sluice-<feature> (the actor verbs)      sluice_feature (cmake/SluiceTargets.cmake)
#   lib/libsluice_*.a, include/sluice/<folder>/  the library (sluice_install_library below)
#   the Python package, the Node.js package      bindings/python, bindings/node
include(GNUInstallDirs)

# Headers keep their paths below include/sluice, so `#include "inbox/inbox.hpp"` means the same
# file in the source tree and in an installed one.
set(SLUICE_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/sluice)

# sluice_install_library(<target> <name> HEADERS <folder>...)
# Installs a library as the imported target sluice::<name> of find_package(sluice) (also its
# alias in this build), with the headers of each folder (not of its subfolders).
function(sluice_install_library target name)
  cmake_parse_arguments(L "" "" "HEADERS" ${ARGN})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  add_library(sluice::${name} ALIAS ${target})
  install(TARGETS ${target} EXPORT sluiceTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${SLUICE_INSTALL_INCLUDEDIR})
  foreach(folder ${L_HEADERS})
    file(GLOB headers ${PROJECT_SOURCE_DIR}/${folder}/*.hpp)
    install(FILES ${headers} DESTINATION ${SLUICE_INSTALL_INCLUDEDIR}/${folder})
  endforeach()
endfunction()
