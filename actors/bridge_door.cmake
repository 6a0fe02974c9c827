# sluice_bridge_door: the bridge's front door and handshake, without CAF (Boost.Asio, OpenSSL),
# so their tests also run in the TSan build, which builds no CAF. actors/ includes this when
# CAF is built, tests/bridge/ when it is not; the target is defined once either way.
if(NOT TARGET sluice_bridge_door)
  find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # bridge_auth: HMAC-SHA256, CSPRNG
  add_library(sluice_bridge_door STATIC
    ${CMAKE_CURRENT_LIST_DIR}/bridge_auth.cpp
    ${CMAKE_CURRENT_LIST_DIR}/bridge_front_door.cpp
    ${CMAKE_CURRENT_LIST_DIR}/bridge_handshake.cpp)
  target_include_directories(sluice_bridge_door PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sluice_bridge_door
    PUBLIC sluice_runtime Boost::headers Threads::Threads
    PRIVATE OpenSSL::Crypto)
  sluice_warnings(sluice_bridge_door)
endif()
