#include "generate/requests.hpp"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "ram/error.hpp"

namespace ram::generate {

namespace {

struct LineCtx {
  std::string where;
  std::int64_t vocab;
};

std::vector<std::int64_t> ids_field(const nlohmann::json& j, const char* key, const LineCtx& c) {
  const auto& v = j.at(key);
  if (!v.is_array())
    throw DataError(std::string("\"") + key + "\" is not a list of token ids", c.where,
                    "write e.g. \"" + std::string(key) + "\": [1, 2, 3]");
  std::vector<std::int64_t> out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& x = v[i];
    const std::string at = std::string(key) + "[" + std::to_string(i) + "]";
    if (!x.is_number_integer())
      throw DataError(at + " = " + x.dump() + " is not an integer token id", c.where,
                      "token ids are integers in [0, vocab)");
    std::int64_t id = x.is_number_unsigned() && x.get<std::uint64_t>() > INT64_MAX
                          ? INT64_MAX : x.get<std::int64_t>();
    if (id < 0 || id >= c.vocab)
      throw DataError(at + " = " + x.dump() + " is outside the vocabulary [0, " +
                          std::to_string(c.vocab) + ")", c.where,
                      "use ids of this model's tokenizer");
    out.push_back(id);
  }
  return out;
}

std::string text_field(const nlohmann::json& j, const char* key, const LineCtx& c) {
  const auto& v = j.at(key);
  if (!v.is_string())
    throw DataError(std::string("\"") + key + "\" is not a string", c.where,
                    "give text as a JSON string or ids as \"" + std::string(key) + "_ids\"");
  return v.get<std::string>();
}

std::vector<std::int64_t> encoded(const Encode& encode, const std::string& text, bool special,
                                  const LineCtx& c) {
  auto ids = encode(text, special);
  for (auto id : ids)
    if (id < 0 || id >= c.vocab)
      throw DataError("the tokenizer gave id " + std::to_string(id) + ", outside the vocabulary [0, " +
                          std::to_string(c.vocab) + ")", c.where,
                      "the model directory's tokenizer does not match the model");
  return ids;
}

TokenRequest parse_line(const std::string& text, bool with_response, const LineCtx& c,
                        const Encode& encode) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    std::string msg = e.what();
    if (auto k = msg.find("parse error"); k != std::string::npos) msg = msg.substr(k);
    throw DataError("malformed JSON line: " + msg, c.where, "each line must be one JSON object");
  }
  if (!j.is_object())
    throw DataError("line is not a JSON object", c.where, "each line must be one JSON object");
  const std::string want = with_response ? "\"prompt_ids\" and \"response_ids\" (or \"prompt\" and "
                                           "\"response\" text)"
                                         : "\"prompt_ids\" (or \"prompt\" text)";
  TokenRequest r;
  if (j.contains("prompt_ids")) {
    r.prompt = ids_field(j, "prompt_ids", c);
    if (with_response) {
      if (!j.contains("response_ids")) throw DataError("no \"response_ids\"", c.where, "give " + want);
      r.response = ids_field(j, "response_ids", c);
    }
  } else if (j.contains("prompt")) {
    r.text = true;
    r.prompt = encoded(encode, text_field(j, "prompt", c), true, c);
    if (with_response) {
      if (!j.contains("response")) throw DataError("no \"response\"", c.where, "give " + want);
      r.response = encoded(encode, text_field(j, "response", c), false, c);
    }
  } else {
    throw DataError("line has neither \"prompt_ids\" nor \"prompt\"", c.where, "give " + want);
  }
  if (r.prompt.empty())
    throw DataError("the prompt has no tokens", c.where,
                    "the model needs at least one prompt token to condition on (e.g. BOS)");
  return r;
}

}  // namespace

std::vector<TokenRequest> read_requests(const std::filesystem::path& file, bool with_response,
                                        std::int64_t vocab, const Encode& encode) {
  std::ifstream f;
  std::istream* in = &std::cin;
  if (file != "-") {
    f.open(file);
    if (!f) throw DataError("cannot open the input file", file.string(), "check --input");
    in = &f;
  }
  const std::string name = file == "-" ? std::string("<stdin>") : file.string();
  std::vector<TokenRequest> out;
  std::string text;
  for (std::int64_t n = 1; std::getline(*in, text); ++n) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    LineCtx c{name + ":" + std::to_string(n), vocab};
    auto r = parse_line(text, with_response, c, encode);
    r.line = n;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace ram::generate
