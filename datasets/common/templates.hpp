// templates.hpp — the original's prompt formats (ram-method.md, "Data"), in one place.
//
//   single turn   "\n\nHuman: {instruction}\n\nAssistant: "   (trailing space)
//   HH            prompt = the chosen transcript up to its last "\n\nAssistant:" marker,
//                 the marker and the one space after it when there is one; response = rest
//   TL;DR         prompt + "\nTL;DR:" (not added twice when the prompt already ends with
//                 "TL;DR:", as CarperAI's openai_summarize_tldr prompts do)
//   aligner       "{prompt}{proposal response}\n\nCorrection: "  (the aligner baseline)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ram_datasets {

inline constexpr std::string_view kHuman = "\n\nHuman: ";
inline constexpr std::string_view kAssistant = "\n\nAssistant: ";
inline constexpr std::string_view kAssistantMarker = "\n\nAssistant:";
inline constexpr std::string_view kTldr = "\nTL;DR:";
inline constexpr std::string_view kCorrection = "\n\nCorrection: ";

// "\n\nHuman: " + instruction + "\n\nAssistant: ".
std::string single_turn_prompt(std::string_view instruction);

// Length of the HH prompt inside `transcript` (see above); npos when there is no
// "\n\nAssistant:" marker.
std::size_t hh_prompt_length(std::string_view transcript);

// The TL;DR prompt for a post (see above).
std::string tldr_prompt(std::string_view post);

// "{prompt}{response}\n\nCorrection: ".
std::string aligner_prompt(std::string_view prompt, std::string_view response);

}  // namespace ram_datasets
