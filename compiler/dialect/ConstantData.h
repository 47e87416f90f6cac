// Reading the data of slm.constant ops (resource blobs or dense attributes) for passes that rewrite weights.
#pragma once

#include "SlmDialect.h"

#include <vector>

namespace slmc::slm {
// Float32 contents of a constant; empty when the constant is not float32.
std::vector<float> constantFloats(ConstantOp c);
} // namespace slmc::slm
