// Many sessions over one loaded model, on parallel threads, give the outputs one session gives.
#include "slm_runtime.h"
#include "tensor_io.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <dirent.h>
#include <string>
#include <thread>
#include <vector>

namespace {

using Bytes = std::vector<std::vector<uint8_t>>; // one entry per output

struct Inputs {
  std::vector<std::string> names;
  std::vector<slm_tools::HostTensor> values;
};

// The golden llama case's inputs, with input_ids shifted by `variant` so threads run different data.
Inputs load_inputs(const std::string &dir, int variant) {
  Inputs in;
  DIR *d = opendir(dir.c_str());
  while (dirent *e = d ? readdir(d) : nullptr) {
    std::string f = e->d_name;
    if (f.size() < 5 || f.substr(f.size() - 4) != ".npy") continue;
    slm_tools::HostTensor t;
    std::string err;
    if (!slm_tools::read_tensor_file(dir + "/" + f, &t, &err)) ADD_FAILURE() << err;
    if (t.dtype == SLM_DTYPE_INT64) {
      auto *ids = reinterpret_cast<int64_t *>(t.data.data());
      for (size_t i = 0; i < t.data.size() / 8; ++i) ids[i] = (ids[i] + 37 * variant) % 256;
    }
    in.names.push_back(f.substr(0, f.size() - 4));
    in.values.push_back(std::move(t));
  }
  if (d) closedir(d);
  return in;
}

// Runs `runs` times in one fresh session and returns the last outputs (empty on failure, with a test failure).
Bytes run_session(slm_model_t *model, const Inputs &in, int threads, int runs) {
  slm_session_options_t opts = {threads};
  slm_session_t *s = nullptr;
  if (slm_session_create(model, &opts, &s) != SLM_OK) {
    ADD_FAILURE() << slm_last_error();
    return {};
  }
  Bytes out;
  for (int r = 0; r < runs; ++r) {
    for (size_t i = 0; i < in.names.size(); ++i) {
      const auto &t = in.values[i];
      slm_tensor_t v = {t.dtype, int32_t(t.dims.size()), {}, t.data.data(), t.data.size()};
      for (size_t k = 0; k < t.dims.size(); ++k) v.dims[k] = t.dims[k];
      if (slm_session_set_input(s, in.names[i].c_str(), &v) != SLM_OK) ADD_FAILURE() << slm_last_error();
    }
    if (slm_session_run(s) != SLM_OK) {
      ADD_FAILURE() << slm_last_error();
      break;
    }
    out.clear();
    for (size_t k = 0; k < slm_model_output_count(model); ++k) {
      slm_tensor_t o;
      if (slm_session_get_output(s, k, &o) != SLM_OK) ADD_FAILURE() << slm_last_error();
      const auto *p = static_cast<const uint8_t *>(o.data);
      out.emplace_back(p, p + o.nbytes);
    }
  }
  slm_session_free(s);
  return out;
}

TEST(ConcurrentSessions, ManyThreadsOverOneModelMatchOneSession) {
  const std::string dir = SLM_COMPAT_DIR "/golden/v1/llama_fp32";
  slm_model_t *model = nullptr;
  ASSERT_EQ(slm_model_load_file((dir + "/model.slm").c_str(), &model), SLM_OK) << slm_last_error();
  constexpr int kVariants = 3, kThreads = 8, kRuns = 4, kIntraOpThreads = 2;
  std::vector<Inputs> inputs;
  std::vector<Bytes> want;
  for (int v = 0; v < kVariants; ++v) {
    inputs.push_back(load_inputs(dir + "/inputs", v));
    want.push_back(run_session(model, inputs.back(), kIntraOpThreads, 1));
    ASSERT_FALSE(want.back().empty());
  }
  ASSERT_NE(want[0], want[1]); // the variants really differ, so a mixed-up session would show
  std::vector<Bytes> got(kThreads);
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield(); // start together
      got[t] = run_session(model, inputs[t % kVariants], kIntraOpThreads, kRuns);
    });
  for (auto &th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(got[t], want[t % kVariants]) << "thread " << t;
  slm_model_free(model);
}

// Loading the same file on many threads at once gives independent, equal models.
TEST(ConcurrentSessions, ParallelLoadsOfOneFile) {
  const std::string path = SLM_COMPAT_DIR "/golden/v1/cnn_fp32/model.slm";
  constexpr int kThreads = 6;
  std::vector<std::thread> pool;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        slm_model_t *m = nullptr;
        if (slm_model_load_file(path.c_str(), &m) == SLM_OK && slm_model_input_count(m) == 1) ok.fetch_add(1);
        slm_model_free(m);
      }
    });
  for (auto &th : pool) th.join();
  EXPECT_EQ(ok.load(), kThreads * 5);
}

} // namespace
