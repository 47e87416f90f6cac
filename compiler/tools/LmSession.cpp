// LmSession.cpp — the LM interface lookup and the chunk-by-chunk cached runner.
#include "tools/LmSession.h"

#include <algorithm>
#include <cstring>

namespace slmc {

std::string findLmInterface(const slm_model_t *model, LmInterface &io) {
  slm_tensor_info_t info;
  bool haveIds = false;
  for (size_t i = 0; i < slm_model_input_count(model); ++i) {
    slm_model_input_info(model, i, &info);
    std::string name = info.name;
    if (name == "input_ids") {
      if (info.dtype != SLM_DTYPE_INT64 || info.rank != 2)
        return "input_ids must be int64 [batch, seq]";
      io.maxSeq = info.max_dims[1];
      haveIds = true;
    } else if (name.rfind("past_key_values.", 0) == 0) {
      LmCacheSlot slot;
      slot.pastName = name;
      slot.value.dtype = info.dtype;
      slot.value.rank = info.rank;
      for (int d = 0; d < info.rank; ++d) {
        const char *dn = info.dim_names[d];
        bool batch = dn && std::strstr(dn, "batch");
        slot.value.dims[d] = batch ? 1 : info.max_dims[d];
        if (dn && !batch)
          slot.pastAxis = d;
      }
      if (slot.pastAxis < 0)
        return "input '" + name + "' has no symbolic past dim";
      io.maxPast = io.caches.empty() ? info.max_dims[slot.pastAxis]
                                     : std::min(io.maxPast, info.max_dims[slot.pastAxis]);
      io.caches.push_back(std::move(slot));
    } else {
      return "unexpected input '" + name + "' (expected input_ids and past_key_values.*)";
    }
  }
  if (!haveIds)
    return "no input named input_ids";
  if (io.caches.empty() && slm_model_state_count(model) > 0) {
    // Session-state caches hold `capacity` positions in all: at most capacity - 1 before a run.
    int64_t capacity = 0;
    for (size_t i = 0; i < slm_model_state_count(model); ++i) {
      slm_model_state_info(model, i, &info);
      capacity = i == 0 ? info.max_dims[2] : std::min(capacity, info.max_dims[2]);
    }
    io.stateCache = true;
    io.maxPast = capacity - 1;
  }
  for (auto &slot : io.caches) {
    std::string want = "present." + slot.pastName.substr(std::strlen("past_key_values."));
    size_t n = slm_model_output_count(model), k = 0;
    for (; k < n; ++k) {
      slm_model_output_info(model, k, &info);
      if (want == info.name)
        break;
    }
    if (k == n)
      return "no output " + want + " for input " + slot.pastName;
    slot.presentIndex = k;
  }
  for (size_t k = 0; k < slm_model_output_count(model); ++k) {
    slm_model_output_info(model, k, &info);
    if (std::string(info.name) == "logits") {
      if (info.dtype != SLM_DTYPE_FLOAT32)
        return "logits must be float32";
      io.logitsIndex = k;
      io.vocab = info.max_dims[info.rank - 1];
      return "";
    }
  }
  return "no output named logits";
}

void LmRunner::reset() {
  if (io_.stateCache) slm_session_reset_state(session_);
  for (auto &slot : io_.caches) {
    slot.value.dims[slot.pastAxis] = 0;
    slot.host.clear();
  }
  cached_ = 0;
  logits_ = nullptr;
}

std::string LmRunner::run(const int64_t *ids, int seq) {
  if (seq < 1 || seq > io_.maxSeq)
    return "chunk of " + std::to_string(seq) + " tokens is outside the seq bound 1.." +
           std::to_string(io_.maxSeq);
  if (!io_.caches.empty() && cached_ > io_.maxPast)
    return "cache of " + std::to_string(cached_) + " positions exceeds the past bound " +
           std::to_string(io_.maxPast);
  if (io_.stateCache && cached_ + seq > io_.maxPast + 1)
    return "the KV cache holds " + std::to_string(io_.maxPast + 1) + " positions; " + std::to_string(cached_) +
           " cached + " + std::to_string(seq) + " new do not fit";
  slm_tensor_t in{};
  in.dtype = SLM_DTYPE_INT64;
  in.rank = 2;
  in.dims[0] = 1;
  in.dims[1] = seq;
  in.data = ids;
  in.nbytes = size_t(seq) * sizeof(int64_t);
  auto err = [](const std::string &what) { return what + ": " + slm_last_error(); };
  if (slm_session_set_input(session_, "input_ids", &in) != SLM_OK)
    return err("set input_ids");
  for (auto &slot : io_.caches) {
    slot.value.data = slot.host.data();
    slot.value.nbytes = slm_dtype_size(slot.value.dtype);
    for (int d = 0; d < slot.value.rank; ++d)
      slot.value.nbytes *= size_t(slot.value.dims[d]);
    if (slm_session_set_input(session_, slot.pastName.c_str(), &slot.value) != SLM_OK)
      return err("set " + slot.pastName);
  }
  if (slm_session_run(session_) != SLM_OK)
    return err("run");
  slm_tensor_t out;
  for (auto &slot : io_.caches) {
    if (slm_session_get_output(session_, slot.presentIndex, &out) != SLM_OK)
      return err("get present of " + slot.pastName);
    slot.host.assign(static_cast<const char *>(out.data),
                     static_cast<const char *>(out.data) + out.nbytes);
    slot.value.dims[slot.pastAxis] = out.dims[slot.pastAxis];
  }
  if (slm_session_get_output(session_, io_.logitsIndex, &out) != SLM_OK)
    return err("get logits");
  logits_ = static_cast<const float *>(out.data);
  cached_ += seq;
  return "";
}

} // namespace slmc
