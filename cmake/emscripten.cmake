# The WebAssembly build (cmake --preset wasm, Emscripten toolchain): the core only,
# single-threaded, C++ exceptions as native WASM exceptions.
#
# nlohmann-json is header-only. Debian installs it in /usr/include, next to glibc's
# headers, which must not reach em++; so a folder holding only nlohmann/ stands in
# for it, and a small package config makes find_package(nlohmann_json) find that.
set(LMX_NLOHMANN_INCLUDE /usr/include CACHE PATH "folder containing nlohmann/json.hpp")
if(NOT EXISTS ${LMX_NLOHMANN_INCLUDE}/nlohmann/json.hpp)
  message(FATAL_ERROR "nlohmann/json.hpp not found in ${LMX_NLOHMANN_INCLUDE} (Debian: nlohmann-json3-dev)")
endif()
set(dir ${PROJECT_BINARY_DIR}/third_party)
file(MAKE_DIRECTORY ${dir}/include)
file(CREATE_LINK ${LMX_NLOHMANN_INCLUDE}/nlohmann ${dir}/include/nlohmann SYMBOLIC)
file(WRITE ${dir}/nlohmann_json/nlohmann_jsonConfig.cmake
  "if(NOT TARGET nlohmann_json::nlohmann_json)\n"
  "  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)\n"
  "  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${dir}/include)\n"
  "endif()\n")
file(WRITE ${dir}/nlohmann_json/nlohmann_jsonConfigVersion.cmake
  "set(PACKAGE_VERSION 3)\nset(PACKAGE_VERSION_COMPATIBLE TRUE)\n")
set(nlohmann_json_DIR ${dir}/nlohmann_json CACHE PATH "" FORCE)

# std::bit_cast for Emscripten 3.1.6's older libc++ (see the header).
add_compile_options("SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/emscripten_compat.hpp")

# -fwasm-exceptions: lmx::Error is thrown and caught inside the core (Node 17+, every
# current browser). Compile and link flags must agree.
add_compile_options(-fwasm-exceptions)
add_link_options(-fwasm-exceptions)
