// minicnn::Error: the one exception type the library throws, and helpers that build its
// messages. Every message names the layer or file involved, the expected and the actual value.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace minicnn {

// Thrown for every misuse and every bad input: wrong shapes, invalid arguments, corrupt files.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {

// Concatenates anything printable with operator<< into one string.
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace detail

// Throws Error with the concatenation of `parts`. Call it only on the failure path, so that no
// string is built while things go well: `if (bad) fail("Dense 'fc': expected ...", n);`.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(detail::concat(parts...));
}

}  // namespace minicnn
