// Force-included into every C++ file of the WebAssembly build (cmake/emscripten.cmake).
// Debian's Emscripten 3.1.6 ships a libc++ from before LLVM 14 that lacks std::bit_cast;
// clang's builtin does the same thing. <bit> is included up front because libstdc++
// pulls it in transitively where libc++ does not.
#pragma once
#ifdef __cplusplus
#include <bit>
#include <type_traits>
#include <version>
#if !defined(__cpp_lib_bit_cast)
namespace std {
template <class To, class From>
    requires(sizeof(To) == sizeof(From) && is_trivially_copyable_v<To> && is_trivially_copyable_v<From>)
constexpr To bit_cast(const From& from) noexcept {
    return __builtin_bit_cast(To, from);
}
}  // namespace std
#endif
#endif
