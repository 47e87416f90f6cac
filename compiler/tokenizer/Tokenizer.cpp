// Tokenizer.cpp — byte tokenizer and the Hugging Face tokenizer.json BPE tokenizer (byte-level and
// SentencePiece-style): normalizers, pre-tokenizers, BPE merges, decoders.
#include "tokenizer/Tokenizer.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <map>
#include <unordered_map>

namespace slmc {

Tokenizer::~Tokenizer() = default;

namespace {

// ---- UTF-8 ----------------------------------------------------------------------------------

// Splits s into code points; an invalid byte becomes U+FFFD-free "code point" 0xDC00+byte so that
// every byte is kept and re-encoded as itself (see encodeUtf8).
std::vector<uint32_t> decodeUtf8(const std::string &s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (int k = 1; ok && k < n; ++k) {
      unsigned char d = s[i + k];
      ok = (d & 0xc0) == 0x80;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (!ok) {
      out.push_back(0xDC00 + c);
      i += 1;
    } else {
      out.push_back(cp);
      i += n;
    }
  }
  return out;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp >= 0xDC80 && cp <= 0xDCFF) { // a raw byte kept by decodeUtf8
    out += char(cp - 0xDC00);
  } else if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xc0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += char(0xe0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  } else {
    out += char(0xf0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3f));
    out += char(0x80 | ((cp >> 6) & 0x3f));
    out += char(0x80 | (cp & 0x3f));
  }
}

std::string encodeUtf8(const std::vector<uint32_t> &cps, size_t b, size_t e) {
  std::string out;
  for (size_t i = b; i < e; ++i)
    appendUtf8(out, cps[i]);
  return out;
}

// ---- character classes (\s, \p{L}, \p{N}) ---------------------------------------------------

bool isSpace(uint32_t c) {
  return (c >= 9 && c <= 13) || c == ' ' || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool isNumber(uint32_t c) {
  return (c >= '0' && c <= '9') || c == 0xB2 || c == 0xB3 || c == 0xB9 ||
         (c >= 0xBC && c <= 0xBE) || (c >= 0x0660 && c <= 0x0669) || (c >= 0xFF10 && c <= 0xFF19);
}

// Punctuation and symbol blocks above Latin-1 (everything else there counts as a letter).
bool isNonLetterBlock(uint32_t c) {
  return (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF20) ||
         (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
         (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xDC80 && c <= 0xDCFF) || c == 0xFFFD;
}

bool isLetter(uint32_t c) {
  if (c < 0x80)
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  if (c < 0x100)
    return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
  return !isSpace(c) && !isNumber(c) && !isNonLetterBlock(c);
}

bool isNewline(uint32_t c) { return c == '\r' || c == '\n'; }

// ---- pre-tokenizer regexes ------------------------------------------------------------------

// The split patterns this file implements by hand (their regex text as in tokenizer.json).
enum class SplitRegex { Gpt2, Llama3, Qwen };

const char *kGpt2Regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char *kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char *kQwenRegex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Length of a contraction ('s 't 're 've 'm 'll 'd) at i, 0 if none.
size_t contraction(const std::vector<uint32_t> &c, size_t i, bool ignoreCase) {
  if (c[i] != '\'' || i + 1 >= c.size())
    return 0;
  auto lower = [&](size_t k) -> uint32_t {
    if (k >= c.size())
      return 0;
    return ignoreCase && c[k] >= 'A' && c[k] <= 'Z' ? c[k] + 32 : c[k];
  };
  uint32_t a = lower(i + 1), b = lower(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
    return 3;
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  return 0;
}

// `\s+(?!\S)|\s+` at i (c[i] is a space): the run, less its last char when a non-space follows
// a run of two or more.
size_t spaceRun(const std::vector<uint32_t> &c, size_t i) {
  size_t j = i;
  while (j < c.size() && isSpace(c[j]))
    ++j;
  return (j < c.size() && j - i >= 2) ? j - i - 1 : j - i;
}

// Length of the match at i of the GPT-2 pattern (always >= 1): ` ?\p{L}+`, ` ?\p{N}+` and
// ` ?[^\s\p{L}\p{N}]+` are an optional space and a run of one class.
size_t matchGpt2(const std::vector<uint32_t> &c, size_t i) {
  if (size_t n = contraction(c, i, false))
    return n;
  size_t s = (c[i] == ' ' && i + 1 < c.size() && !isSpace(c[i + 1])) ? 1 : 0;
  if (isSpace(c[i + s]))
    return spaceRun(c, i);
  auto cls = [](uint32_t x) { return isLetter(x) ? 0 : isNumber(x) ? 1 : isSpace(x) ? 3 : 2; };
  int k = cls(c[i + s]);
  size_t j = i + s;
  while (j < c.size() && cls(c[j]) == k)
    ++j;
  return j - i;
}

// Length of the match at i of the Llama-3 / Qwen pattern (digits: up to maxDigits).
size_t matchLlama3(const std::vector<uint32_t> &c, size_t i, size_t maxDigits) {
  if (size_t n = contraction(c, i, true))
    return n;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t p = (!isNewline(c[i]) && !isLetter(c[i]) && !isNumber(c[i])) ? 1 : 0;
  for (size_t pre : {p, size_t(0)}) {
    size_t j = i + pre;
    while (j < c.size() && isLetter(c[j]))
      ++j;
    if (j > i + pre)
      return j - i;
  }
  if (isNumber(c[i])) {
    size_t j = i;
    while (j < c.size() && j - i < maxDigits && isNumber(c[j]))
      ++j;
    return j - i;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  auto other = [](uint32_t x) { return !isSpace(x) && !isLetter(x) && !isNumber(x); };
  size_t s = (c[i] == ' ' && i + 1 < c.size() && other(c[i + 1])) ? 1 : 0;
  if (other(c[i + s])) {
    size_t j = i + s;
    while (j < c.size() && other(c[j]))
      ++j;
    while (j < c.size() && isNewline(c[j]))
      ++j;
    return j - i;
  }
  // '\s*[\r\n]+': up to the last newline of the whitespace run
  size_t j = i, lastNl = SIZE_MAX;
  while (j < c.size() && isSpace(c[j])) {
    if (isNewline(c[j]))
      lastNl = j;
    ++j;
  }
  if (lastNl != SIZE_MAX)
    return lastNl + 1 - i;
  return spaceRun(c, i);
}

std::vector<std::string> splitRegex(const std::string &text, SplitRegex re) {
  std::vector<uint32_t> c = decodeUtf8(text);
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size();) {
    size_t n = re == SplitRegex::Gpt2 ? matchGpt2(c, i) : matchLlama3(c, i, re == SplitRegex::Llama3 ? 3 : 1);
    n = std::max<size_t>(n, 1);
    out.push_back(encodeUtf8(c, i, i + n));
    i += n;
  }
  return out;
}

// ---- GPT-2 byte-level alphabet ----------------------------------------------------------------

struct ByteAlphabet {
  std::string byteToChar[256];
  std::unordered_map<uint32_t, uint8_t> charToByte;
  ByteAlphabet() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + n++);
      appendUtf8(byteToChar[b], cp);
      charToByte[cp] = uint8_t(b);
    }
  }
};

const ByteAlphabet &byteAlphabet() {
  static const ByteAlphabet a;
  return a;
}

std::string replaceAll(std::string s, const std::string &from, const std::string &to) {
  if (from.empty())
    return s;
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

const std::string kMeta = "\xE2\x96\x81"; // U+2581 ▁

// ---- the byte tokenizer ---------------------------------------------------------------------

class ByteTokenizer : public Tokenizer {
public:
  std::vector<int64_t> encode(const std::string &text) const override {
    return std::vector<int64_t>(reinterpret_cast<const unsigned char *>(text.data()),
                                reinterpret_cast<const unsigned char *>(text.data()) + text.size());
  }
  std::string decode(const std::vector<int64_t> &ids) const override {
    std::string out;
    for (int64_t id : ids)
      out += char(uint8_t(id));
    return out;
  }
  std::string streamPiece(const std::vector<int64_t> &, int64_t id) const override {
    return std::string(1, char(uint8_t(id)));
  }
  int64_t vocabSize() const override { return 256; }
};

// ---- tokenizer.json -------------------------------------------------------------------------

// One step of a normalizer, pre-tokenizer or decoder chain.
struct Step {
  std::string type;
  std::string a, b;        // Replace: pattern, content; Prepend: text; Metaspace: replacement
  bool flag = false;       // ByteLevel add_prefix_space / use_regex; Metaspace: split
  bool prepend = true;     // Metaspace: prepend ▁ to the first piece
  int start = 0, stop = 0; // Strip
  SplitRegex re = SplitRegex::Gpt2;
  bool useRegex = true;
};

class JsonTokenizer : public Tokenizer {
public:
  std::string load(const std::string &path);
  std::vector<int64_t> encode(const std::string &text) const override;
  std::string decode(const std::vector<int64_t> &ids) const override;
  std::string streamPiece(const std::vector<int64_t> &previous, int64_t id) const override {
    std::vector<int64_t> all = previous;
    std::string before = decode(previous);
    all.push_back(id);
    std::string after = decode(all);
    return after.compare(0, before.size(), before) == 0 ? after.substr(before.size()) : tokenText(id);
  }
  int64_t vocabSize() const override { return int64_t(idToToken_.size()); }

private:
  std::string parseSteps(const llvm::json::Object *o, const char *listKey, std::vector<Step> &out,
                         const std::string &where);
  std::string tokenText(int64_t id) const {
    return id >= 0 && size_t(id) < idToToken_.size() ? idToToken_[id] : std::string();
  }
  void encodeWord(const std::string &word, std::vector<int64_t> &out) const;
  void encodePlain(const std::string &text, std::vector<int64_t> &out) const;

  llvm::StringMap<int64_t> vocab_;
  std::vector<std::string> idToToken_;
  std::map<std::pair<std::string, std::string>, int> ranks_;
  std::vector<std::pair<std::string, int64_t>> added_; // longest first
  std::vector<Step> normalizers_, preTokenizers_, decoders_;
  int64_t unk_ = -1;
  bool byteFallback_ = false, ignoreMerges_ = false, byteLevel_ = false;
  std::string path_;
};

std::string JsonTokenizer::parseSteps(const llvm::json::Object *o, const char *listKey,
                                      std::vector<Step> &out, const std::string &where) {
  if (!o)
    return "";
  std::string type = o->getString("type").value_or("").str();
  if (type == "Sequence") {
    const llvm::json::Array *list = o->getArray(listKey);
    if (!list)
      return where + ": Sequence without '" + listKey + "'";
    for (const auto &v : *list)
      if (std::string e = parseSteps(v.getAsObject(), listKey, out, where); !e.empty())
        return e;
    return "";
  }
  Step s;
  s.type = type;
  auto pattern = [&](std::string &dst) -> std::string {
    const llvm::json::Object *p = o->getObject("pattern");
    if (p && p->getString("String")) {
      dst = p->getString("String")->str();
      return "";
    }
    if (p && p->getString("Regex")) {
      dst = p->getString("Regex")->str();
      return "regex";
    }
    return "none";
  };
  if (type == "NFC" || type == "Fuse" || type == "ByteFallback") {
    // NFC: accepted without normalizing (see Tokenizer.h).
  } else if (type == "Prepend") {
    s.a = o->getString("prepend").value_or("").str();
  } else if (type == "Replace") {
    if (pattern(s.a) != "")
      return where + ": Replace with a regex pattern is not supported";
    s.b = o->getString("content").value_or("").str();
  } else if (type == "Strip") {
    s.a = o->getString("content").value_or(" ").str();
    s.start = int(o->getInteger("start").value_or(0));
    s.stop = int(o->getInteger("stop").value_or(0));
  } else if (type == "ByteLevel") {
    s.flag = o->getBoolean("add_prefix_space").value_or(false);
    s.useRegex = o->getBoolean("use_regex").value_or(true);
    byteLevel_ = true;
  } else if (type == "Metaspace") {
    s.a = o->getString("replacement").value_or(kMeta).str();
    std::string scheme = o->getString("prepend_scheme").value_or("").str();
    s.prepend = scheme.empty() ? o->getBoolean("add_prefix_space").value_or(true) : scheme != "never";
    s.flag = o->getBoolean("split").value_or(true);
  } else if (type == "Split") {
    std::string re;
    if (pattern(re) != "regex")
      return where + ": Split with a string pattern is not supported";
    if (re == kGpt2Regex)
      s.re = SplitRegex::Gpt2;
    else if (re == kLlama3Regex)
      s.re = SplitRegex::Llama3;
    else if (re == kQwenRegex)
      s.re = SplitRegex::Qwen;
    else
      return where + ": Split regex '" + re + "' is not one of the supported GPT-2/Llama-3/Qwen patterns";
    std::string behavior = o->getString("behavior").value_or("").str();
    if (behavior != "Isolated" || o->getBoolean("invert").value_or(false))
      return where + ": Split behavior '" + behavior + "' (only Isolated, not inverted, is supported)";
  } else {
    return where + ": type '" + type + "' is not supported";
  }
  out.push_back(s);
  return "";
}

std::string JsonTokenizer::load(const std::string &path) {
  path_ = path;
  auto buf = llvm::MemoryBuffer::getFile(path);
  if (!buf)
    return path + ": cannot read: " + buf.getError().message();
  auto parsed = llvm::json::parse((*buf)->getBuffer());
  if (!parsed) {
    std::string msg = llvm::toString(parsed.takeError());
    return path + ": not valid JSON: " + msg;
  }
  const llvm::json::Object *root = parsed->getAsObject();
  const llvm::json::Object *model = root ? root->getObject("model") : nullptr;
  if (!model)
    return path + ": no 'model' object (not a Hugging Face tokenizer.json)";
  std::string type = model->getString("type").value_or("BPE").str();
  if (type != "BPE")
    return path + ": model.type '" + type + "' is not supported (only BPE)";
  if (model->getString("continuing_subword_prefix").value_or("") != "" ||
      model->getString("end_of_word_suffix").value_or("") != "")
    return path + ": model.continuing_subword_prefix/end_of_word_suffix are not supported";
  const llvm::json::Object *vocab = model->getObject("vocab");
  const llvm::json::Array *merges = model->getArray("merges");
  if (!vocab || !merges)
    return path + ": model.vocab or model.merges is missing";
  auto addToken = [&](const std::string &tok, int64_t id) {
    vocab_[tok] = id;
    if (size_t(id) >= idToToken_.size())
      idToToken_.resize(size_t(id) + 1);
    idToToken_[size_t(id)] = tok;
  };
  for (const auto &kv : *vocab) {
    auto id = kv.second.getAsInteger();
    if (!id || *id < 0)
      return path + ": model.vocab['" + kv.first.str() + "'] is not a non-negative integer";
    addToken(kv.first.str(), *id);
  }
  int rank = 0;
  for (const auto &m : *merges) {
    std::string l, r;
    if (auto s = m.getAsString()) {
      size_t sp = s->find(' ');
      if (sp == llvm::StringRef::npos)
        return path + ": merge '" + s->str() + "' is not 'a b'";
      l = s->substr(0, sp).str();
      r = s->substr(sp + 1).str();
    } else if (const llvm::json::Array *pair = m.getAsArray(); pair && pair->size() == 2) {
      l = (*pair)[0].getAsString().value_or("").str();
      r = (*pair)[1].getAsString().value_or("").str();
    } else {
      return path + ": merge #" + std::to_string(rank) + " is neither 'a b' nor [a, b]";
    }
    ranks_.emplace(std::make_pair(l, r), rank++);
  }
  byteFallback_ = model->getBoolean("byte_fallback").value_or(false);
  ignoreMerges_ = model->getBoolean("ignore_merges").value_or(false);
  if (auto unk = model->getString("unk_token"))
    if (auto it = vocab_.find(*unk); it != vocab_.end())
      unk_ = it->second;
  if (const llvm::json::Array *added = root->getArray("added_tokens"))
    for (const auto &a : *added)
      if (const llvm::json::Object *t = a.getAsObject()) {
        std::string content = t->getString("content").value_or("").str();
        int64_t id = t->getInteger("id").value_or(-1);
        if (content.empty() || id < 0)
          return path + ": added_tokens entry without content or id";
        addToken(content, id);
        added_.push_back({content, id});
      }
  std::sort(added_.begin(), added_.end(),
            [](const auto &x, const auto &y) { return x.first.size() > y.first.size(); });
  if (std::string e = parseSteps(root->getObject("normalizer"), "normalizers", normalizers_, path + ": normalizer");
      !e.empty())
    return e;
  if (std::string e = parseSteps(root->getObject("pre_tokenizer"), "pretokenizers", preTokenizers_,
                                 path + ": pre_tokenizer");
      !e.empty())
    return e;
  if (std::string e = parseSteps(root->getObject("decoder"), "decoders", decoders_, path + ": decoder");
      !e.empty())
    return e;
  for (const auto &s : normalizers_)
    if (s.type == "ByteLevel" || s.type == "Metaspace" || s.type == "Split" || s.type == "Strip")
      return path + ": normalizer type '" + s.type + "' is not supported";
  return "";
}

// BPE over one pre-token: merge the lowest-ranked adjacent pair until none applies.
void JsonTokenizer::encodeWord(const std::string &word, std::vector<int64_t> &out) const {
  if (word.empty())
    return;
  if (ignoreMerges_)
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  std::vector<uint32_t> cps = decodeUtf8(word);
  std::vector<std::string> sym;
  for (size_t i = 0; i < cps.size(); ++i)
    sym.push_back(encodeUtf8(cps, i, i + 1));
  while (sym.size() > 1) {
    int best = INT_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      auto it = ranks_.find({sym[i], sym[i + 1]});
      if (it != ranks_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT_MAX)
      break;
    sym[at] += sym[at + 1];
    sym.erase(sym.begin() + at + 1);
  }
  for (const auto &s : sym) {
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      out.push_back(it->second);
    } else if (byteFallback_) {
      for (unsigned char b : s) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        auto bt = vocab_.find(name);
        if (bt != vocab_.end())
          out.push_back(bt->second);
        else if (unk_ >= 0)
          out.push_back(unk_);
      }
    } else if (unk_ >= 0) {
      out.push_back(unk_);
    }
  }
}

// Normalize, pre-tokenize and BPE-encode text that holds no added token.
void JsonTokenizer::encodePlain(const std::string &text, std::vector<int64_t> &out) const {
  if (text.empty())
    return;
  std::string norm = text;
  for (const auto &s : normalizers_) {
    if (s.type == "Prepend")
      norm = s.a + norm;
    else if (s.type == "Replace")
      norm = replaceAll(norm, s.a, s.b);
  }
  std::vector<std::string> pieces = {norm};
  for (const auto &s : preTokenizers_) {
    std::vector<std::string> next;
    for (size_t k = 0; k < pieces.size(); ++k) {
      const std::string &p = pieces[k];
      if (s.type == "Split") {
        for (auto &x : splitRegex(p, s.re))
          next.push_back(std::move(x));
      } else if (s.type == "ByteLevel") {
        std::string src = (s.flag && k == 0 && !p.empty() && p[0] != ' ') ? " " + p : p;
        std::vector<std::string> parts = s.useRegex ? splitRegex(src, SplitRegex::Gpt2)
                                                    : std::vector<std::string>{src};
        for (const auto &part : parts) {
          std::string mapped;
          for (unsigned char b : part)
            mapped += byteAlphabet().byteToChar[b];
          next.push_back(mapped);
        }
      } else if (s.type == "Metaspace") {
        std::string m = replaceAll(p, " ", s.a);
        if (s.prepend && k == 0 && m.compare(0, s.a.size(), s.a) != 0)
          m = s.a + m;
        if (!s.flag) {
          next.push_back(m);
          continue;
        }
        size_t from = 0;
        for (size_t q = m.find(s.a, 1); q != std::string::npos; q = m.find(s.a, q + 1)) {
          next.push_back(m.substr(from, q - from));
          from = q;
        }
        next.push_back(m.substr(from));
      } else {
        next.push_back(p); // NFC and other no-ops
      }
    }
    pieces = std::move(next);
  }
  for (const auto &p : pieces)
    encodeWord(p, out);
}

std::vector<int64_t> JsonTokenizer::encode(const std::string &text) const {
  std::vector<int64_t> out;
  size_t from = 0, i = 0;
  while (i < text.size()) {
    bool hit = false;
    for (const auto &[content, id] : added_)
      if (text.compare(i, content.size(), content) == 0) {
        encodePlain(text.substr(from, i - from), out);
        out.push_back(id);
        i += content.size();
        from = i;
        hit = true;
        break;
      }
    if (!hit)
      ++i;
  }
  encodePlain(text.substr(from), out);
  return out;
}

std::string JsonTokenizer::decode(const std::vector<int64_t> &ids) const {
  std::vector<std::string> toks;
  for (int64_t id : ids)
    toks.push_back(tokenText(id));
  for (const auto &s : decoders_) {
    if (s.type == "ByteLevel") {
      std::string bytes;
      for (const auto &t : toks)
        for (uint32_t cp : decodeUtf8(t)) {
          auto it = byteAlphabet().charToByte.find(cp);
          if (it != byteAlphabet().charToByte.end())
            bytes += char(it->second);
          else
            appendUtf8(bytes, cp); // added tokens are plain text
        }
      toks = {bytes};
    } else if (s.type == "Replace") {
      for (auto &t : toks)
        t = replaceAll(t, s.a, s.b);
    } else if (s.type == "ByteFallback") {
      for (auto &t : toks)
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>')
          t = std::string(1, char(std::stoi(t.substr(3, 2), nullptr, 16)));
    } else if (s.type == "Fuse") {
      std::string all;
      for (const auto &t : toks)
        all += t;
      toks = {all};
    } else if (s.type == "Strip") {
      for (auto &t : toks) {
        int n = 0;
        while (n < s.start && t.compare(0, s.a.size(), s.a) == 0 && !t.empty()) {
          t.erase(0, s.a.size());
          ++n;
        }
        for (n = 0; n < s.stop && t.size() >= s.a.size() &&
                    t.compare(t.size() - s.a.size(), s.a.size(), s.a) == 0;
             ++n)
          t.erase(t.size() - s.a.size());
      }
    } else if (s.type == "Metaspace") {
      for (size_t k = 0; k < toks.size(); ++k) {
        toks[k] = replaceAll(toks[k], s.a, " ");
        if (k == 0 && s.prepend && !toks[k].empty() && toks[k][0] == ' ')
          toks[k].erase(0, 1);
      }
    }
  }
  std::string out;
  for (const auto &t : toks)
    out += t;
  return out;
}

} // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string &spec, std::string &error) {
  if (spec == "bytes")
    return std::make_unique<ByteTokenizer>();
  auto t = std::make_unique<JsonTokenizer>();
  error = t->load(spec);
  if (!error.empty())
    return nullptr;
  return t;
}

} // namespace slmc
