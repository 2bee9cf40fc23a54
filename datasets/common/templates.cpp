#include "common/templates.hpp"

namespace ram_datasets {

std::string single_turn_prompt(std::string_view instruction) {
  std::string s;
  s.reserve(kHuman.size() + instruction.size() + kAssistant.size());
  s.append(kHuman).append(instruction).append(kAssistant);
  return s;
}

std::size_t hh_prompt_length(std::string_view transcript) {
  std::size_t at = transcript.rfind(kAssistantMarker);
  if (at == std::string_view::npos) return std::string_view::npos;
  std::size_t end = at + kAssistantMarker.size();
  if (end < transcript.size() && transcript[end] == ' ') ++end;
  return end;
}

std::string tldr_prompt(std::string_view post) {
  std::string s(post);
  if (s.size() < 6 || s.compare(s.size() - 6, 6, "TL;DR:") != 0) s.append(kTldr);
  return s;
}

std::string aligner_prompt(std::string_view prompt, std::string_view response) {
  std::string s;
  s.reserve(prompt.size() + response.size() + kCorrection.size());
  s.append(prompt).append(response).append(kCorrection);
  return s;
}

}  // namespace ram_datasets
