// toml++'s compiled part, built into the `sluice` executable instead of loaded from
// libtomlplusplus.so (see cli/CMakeLists.txt: start-up), the way toml++ documents it: one
// translation unit defines TOML_IMPLEMENTATION.
#define TOML_HEADER_ONLY 0  // as tomlplusplus::tomlplusplus compiles sluice_runtime
#define TOML_SHARED_LIB 1
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
