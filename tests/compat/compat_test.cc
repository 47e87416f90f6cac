// Golden artifacts written by earlier slmc versions (tests/compat/golden/v<N>/) load and run in this
// runtime with the outputs they had, and an unknown format version is refused by name.
#include "slm_runtime.h"
#include "slm_generated.h"
#include "tensor_io.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

std::vector<std::string> list_dir(const std::string &dir, const std::string &suffix = "") {
  std::vector<std::string> names;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n[0] != '.' && n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Every golden case: "v1/cnn_fp32", ...
std::vector<std::string> golden_cases() {
  std::vector<std::string> cases;
  for (const auto &v : list_dir(SLM_COMPAT_DIR "/golden"))
    for (const auto &c : list_dir(SLM_COMPAT_DIR "/golden/" + v))
      if (c != "slm.fbs") cases.push_back(v + "/" + c);
  return cases;
}

// Element-wise closeness; floats get a tolerance because a newer runtime may pick another ISA kernel.
::testing::AssertionResult outputs_match(const slm_tools::HostTensor &want, const slm_tensor_t &got) {
  if (got.dtype != want.dtype) return ::testing::AssertionFailure() << "dtype " << got.dtype << " != " << want.dtype;
  if (size_t(got.rank) != want.dims.size()) return ::testing::AssertionFailure() << "rank " << got.rank;
  for (int i = 0; i < got.rank; ++i)
    if (got.dims[i] != want.dims[i]) return ::testing::AssertionFailure() << "dim " << i << " is " << got.dims[i];
  if (got.nbytes != want.data.size()) return ::testing::AssertionFailure() << "nbytes " << got.nbytes;
  if (want.dtype != SLM_DTYPE_FLOAT32)
    return std::memcmp(got.data, want.data.data(), got.nbytes) == 0 ? ::testing::AssertionSuccess()
                                                                     : ::testing::AssertionFailure() << "bytes differ";
  const float *g = static_cast<const float *>(got.data);
  const float *w = reinterpret_cast<const float *>(want.data.data());
  for (size_t i = 0; i < got.nbytes / 4; ++i)
    if (!(std::fabs(g[i] - w[i]) <= 1e-4f + 1e-4f * std::fabs(w[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << g[i] << " vs expected " << w[i];
  return ::testing::AssertionSuccess();
}

class GoldenArtifact : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenArtifact, LoadsAndRunsWithItsExpectedOutputs) {
  const std::string dir = SLM_COMPAT_DIR "/golden/" + GetParam();
  slm_model_t *model = nullptr;
  slm_status_t st = slm_model_load_file((dir + "/model.slm").c_str(), &model);
  if (st == SLM_ERROR_UNSUPPORTED) {
    // A runtime that dropped this format must say so by version, never by a generic corruption error.
    EXPECT_NE(std::string(slm_last_error()).find("format version"), std::string::npos) << slm_last_error();
    GTEST_SKIP() << "refused by format version: " << slm_last_error();
  }
  ASSERT_EQ(st, SLM_OK) << slm_last_error();
  slm_session_options_t opts = {1};
  slm_session_t *s = nullptr;
  ASSERT_EQ(slm_session_create(model, &opts, &s), SLM_OK) << slm_last_error();
  for (const auto &f : list_dir(dir + "/inputs", ".npy")) {
    slm_tools::HostTensor t;
    std::string err;
    ASSERT_TRUE(slm_tools::read_tensor_file(dir + "/inputs/" + f, &t, &err)) << err;
    slm_tensor_t v = {t.dtype, int32_t(t.dims.size()), {}, t.data.data(), t.data.size()};
    for (size_t i = 0; i < t.dims.size(); ++i) v.dims[i] = t.dims[i];
    std::string name = f.substr(0, f.size() - 4);
    ASSERT_EQ(slm_session_set_input(s, name.c_str(), &v), SLM_OK) << slm_last_error();
  }
  ASSERT_EQ(slm_session_run(s), SLM_OK) << slm_last_error();
  size_t outputs = slm_model_output_count(model);
  ASSERT_EQ(outputs, list_dir(dir + "/expected", ".npy").size());
  for (size_t i = 0; i < outputs; ++i) {
    slm_tensor_info_t info;
    ASSERT_EQ(slm_model_output_info(model, i, &info), SLM_OK);
    std::string file = info.name;
    for (char &c : file)
      if (c == '/' || c == ':') c = '_';
    slm_tools::HostTensor want;
    std::string err;
    ASSERT_TRUE(slm_tools::read_tensor_file(dir + "/expected/" + file + ".npy", &want, &err)) << err;
    slm_tensor_t got;
    ASSERT_EQ(slm_session_get_output(s, i, &got), SLM_OK);
    EXPECT_TRUE(outputs_match(want, got)) << "output '" << info.name << "' of " << GetParam();
  }
  slm_session_free(s);
  slm_model_free(model);
}

INSTANTIATE_TEST_SUITE_P(Compat, GoldenArtifact, ::testing::ValuesIn(golden_cases()),
                         [](const ::testing::TestParamInfo<std::string> &p) {
                           std::string n = p.param;
                           for (char &c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(GoldenArtifacts, AtLeastOneCaseIsCommitted) { EXPECT_GE(golden_cases().size(), 3u); }

// An artifact from a future format: the runtime must refuse it naming both versions, not crash or
// report corruption.
TEST(FormatVersion, UnknownVersionIsRefusedByName) {
  flatbuffers::FlatBufferBuilder fbb;
  auto model = slm::fb::CreateModelDirect(fbb, /*format_version=*/999, "slmc future");
  fbb.FinishSizePrefixed(model, slm::fb::ModelIdentifier());
  char path[] = "/tmp/slm-compat-future-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, fbb.GetBufferPointer(), fbb.GetSize()), ssize_t(fbb.GetSize()));
  close(fd);
  slm_model_t *m = nullptr;
  EXPECT_EQ(slm_model_load_file(path, &m), SLM_ERROR_UNSUPPORTED);
  std::string msg = slm_last_error();
  EXPECT_NE(msg.find("format version 999"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  unlink(path);
}

} // namespace
