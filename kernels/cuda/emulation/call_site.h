#pragma once

#include <version>
#if defined(__cpp_lib_source_location)
#include <source_location>
#endif

namespace ofa::emu::detail {

// Where a kernel called a synchronising function. As a defaulted argument, here() records the
// caller's position, so an abort can say which barrier each thread waits at, and two barriers
// on one line still count as two.
struct CallSite {
  const char* file;
  int line;
  int column;
  const char* function;

#if defined(__cpp_lib_source_location)
  static constexpr CallSite here(std::source_location at = std::source_location::current()) {
    return {at.file_name(), int(at.line()), int(at.column()), at.function_name()};
  }
#else  // clang before 15 has the builtins but not std::source_location
  static constexpr CallSite here(const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                                 int column = __builtin_COLUMN(), const char* function = __builtin_FUNCTION()) {
    return {file, line, column, function};
  }
#endif
};

bool same_site(const CallSite& a, const CallSite& b);

}  // namespace ofa::emu::detail
