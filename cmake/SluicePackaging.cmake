# Around what each folder installs (cmake/SluiceInstall.cmake): the CMake package, the
# pkg-config file, the man page and shell completions generated from `sluice --help`, and
# CPack's .deb. Included at the end of the top-level CMakeLists, once every target exists.
include(CMakePackageConfigHelpers)

set(SLUICE_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/sluice)
install(EXPORT sluiceTargets NAMESPACE sluice:: DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/sluiceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/packaging/sluiceConfig.cmake
  INSTALL_DESTINATION ${SLUICE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/packaging/sluiceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/packaging/sluiceConfig.cmake
  ${PROJECT_BINARY_DIR}/packaging/sluiceConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/FindCAF.cmake
  DESTINATION ${SLUICE_INSTALL_CMAKEDIR})

# Relocatable: the prefix is found from where the file is, so a staged or moved install works.
file(RELATIVE_PATH SLUICE_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" SLUICE_PC_TO_PREFIX "${SLUICE_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/sluice.pc.in ${PROJECT_BINARY_DIR}/packaging/sluice.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/sluice.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The man page and the bash and zsh completions, generated from the built executable's --help
# (cmake/sluice_docs.sh), so they list exactly the verbs and flags it has. Not in sanitizer
# builds: nothing is packaged from them, and a sanitized sluice takes ~25 s to print every help.
if(TARGET sluice AND NOT SLUICE_SANITIZE)
  set(docs ${PROJECT_BINARY_DIR}/packaging/docs)
  get_property(actor_executables GLOBAL PROPERTY SLUICE_ACTOR_EXECUTABLES)
  add_custom_command(
    OUTPUT ${docs}/sluice.1 ${docs}/sluice.bash ${docs}/_sluice
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/sluice_docs.sh $<TARGET_FILE:sluice> ${docs} ${PROJECT_VERSION}
    DEPENDS sluice ${actor_executables} ${CMAKE_CURRENT_LIST_DIR}/sluice_docs.sh
    COMMENT "Generating the man page and completions from sluice --help"
    VERBATIM)
  add_custom_target(sluice_docs ALL DEPENDS ${docs}/sluice.1 ${docs}/sluice.bash ${docs}/_sluice)
  install(FILES ${docs}/sluice.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
  install(FILES ${docs}/sluice.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME sluice)
  # zsh reads vendor-completions below /usr, site-functions below /usr/local (Debian's fpath).
  install(CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
      set(SLUICE_ZSH_DIR ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
    else()
      set(SLUICE_ZSH_DIR ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
    endif()")
  install(FILES ${docs}/_sluice DESTINATION "\${SLUICE_ZSH_DIR}")
endif()

# cpack -G DEB in the build directory: one .deb with everything above, installed below /usr.
# Its Depends come from the binaries and modules it holds (dpkg-shlibdeps); Recommends names
# the interpreters the Python and Node.js packages are for; Suggests what building a C++ agent
# against the installed library needs.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION "Bounded, crash-safe shared-memory inboxes for agents that run as
separate local processes: the sluice command, the Python module and the Node.js addon, and the
C++ library with its headers, CMake package and pkg-config file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "sluice maintainers <sluice@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)  # debug info stays in the build tree
set(recommends "")
if(TARGET sluice_python)
  # The module is built for one minor version of CPython.
  string(REGEX REPLACE "^([0-9]+)\\.([0-9]+)$" "\\1" major ${SLUICE_PYTHON_VERSION})
  string(REGEX REPLACE "^([0-9]+)\\.([0-9]+)$" "\\2" minor ${SLUICE_PYTHON_VERSION})
  math(EXPR next_minor "${minor} + 1")
  list(APPEND recommends "python3 (>= ${major}.${minor}), python3 (<< ${major}.${next_minor})")
endif()
if(TARGET sluice_node)
  list(APPEND recommends "nodejs (>= 18)")
endif()
string(REPLACE ";" ", " CPACK_DEBIAN_PACKAGE_RECOMMENDS "${recommends}")
if(TARGET sluice_python)
  set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/deb/postinst ${CMAKE_CURRENT_LIST_DIR}/deb/prerm)
  set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "g++, cmake, pkg-config, libboost-dev, libspdlog-dev, libfmt-dev, nlohmann-json3-dev, libtomlplusplus-dev, libcaf-dev")
include(CPack)
