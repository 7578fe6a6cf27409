#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ofa {

// Every rejected input ends up here: one message that names the op (or file/field)
// and what was expected, so callers can print it as-is and exit non-zero.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <class... Parts>
[[noreturn]] void fail(std::string_view where, Parts&&... parts) {
  throw Error(concat(where, ": ", std::forward<Parts>(parts)...));
}

}  // namespace ofa

// OFA_CHECK(cond, "op_name", "message parts", value, ...): throws ofa::Error("op_name: message").
#define OFA_CHECK(cond, where, ...)          \
  do {                                       \
    if (!(cond)) ::ofa::fail(where, __VA_ARGS__); \
  } while (false)
