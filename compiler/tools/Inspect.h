// `slmc inspect`: a human or JSON summary of a .slm artifact, read through the FlatBuffer verifier.
#pragma once

#include <string>

namespace slmc {
// Prints the summary of `path` to stdout; returns an exit code (2 for a bad artifact).
int inspectArtifact(const std::string &path, bool json);
} // namespace slmc
