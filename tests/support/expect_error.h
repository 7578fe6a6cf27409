#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "kernels/error.h"

namespace ofa::testing {

// Bad input must throw ofa::Error whose message names the op (and, when given, the offending
// detail: a size, a field), never crash or return garbage.
inline void expect_error_naming(const std::function<void()>& call, const std::string& op,
                                const std::string& detail = "") {
  try {
    call();
    ADD_FAILURE() << "expected ofa::Error from " << op << (detail.empty() ? "" : " (" + detail + ")");
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(op), std::string::npos) << message;
    if (!detail.empty()) {
      EXPECT_NE(message.find(detail), std::string::npos) << message;
    }
  }
}

}  // namespace ofa::testing
