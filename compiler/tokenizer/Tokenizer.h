// Tokenizer.h — text ↔ token ids for LM tools: raw bytes, or a Hugging Face tokenizer.json with a
// BPE model (byte-level GPT-2 style, or SentencePiece style with ▁ and byte fallback).
//
// Supported tokenizer.json parts: model.type "BPE" (vocab, merges as "a b" strings or [a, b]
// pairs, unk_token, byte_fallback, ignore_merges, continuing_subword_prefix/end_of_word_suffix
// empty), added_tokens (matched literally before anything else), normalizers NFC (accepted,
// text is used as given: no Unicode normalization is applied), Prepend, Replace (string
// patterns), Sequence; pre-tokenizers ByteLevel (GPT-2 split), Split with the GPT-2 or the
// Llama-3/Qwen regex, Metaspace, Sequence; decoders ByteLevel, Replace, ByteFallback, Fuse, Strip,
// Metaspace, Sequence. Anything else is refused with an error naming the part. \p{L} and \p{N}
// are exact for ASCII and Latin-1 and approximated above (letters: any other non-space,
// non-punctuation code point; digits: ASCII and Latin-1 only).
#ifndef SLMC_TOKENIZER_TOKENIZER_H
#define SLMC_TOKENIZER_TOKENIZER_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace slmc {

class Tokenizer {
public:
  virtual ~Tokenizer();
  // Token ids of `text` (no BOS/EOS or other template tokens are added).
  virtual std::vector<int64_t> encode(const std::string &text) const = 0;
  // Text of a whole id sequence (decoder rules applied, e.g. the leading-space strip).
  virtual std::string decode(const std::vector<int64_t> &ids) const = 0;
  // Bytes that token `id` adds when streaming, given the ids before it (`previous` may be
  // empty). Concatenating streamPiece over a sequence gives decode() of it.
  virtual std::string streamPiece(const std::vector<int64_t> &previous, int64_t id) const = 0;
  // Number of ids (largest id + 1).
  virtual int64_t vocabSize() const = 0;

  // "bytes" (ids 0..255 are the bytes) or the path of a tokenizer.json. On failure returns null
  // and sets `error` to a message naming the file and the unsupported or malformed part.
  static std::unique_ptr<Tokenizer> load(const std::string &spec, std::string &error);
};

} // namespace slmc

#endif // SLMC_TOKENIZER_TOKENIZER_H
