// Keras's layer names: an unnamed layer is named after its kind in snake case ("conv2d",
// "max_pooling2d", "batch_normalization", "re_lu"), then "_1", "_2"... for later layers of the same
// kind, so that summaries, checkpoints and errors say which layer they mean.
#pragma once

#include <string>

namespace minicnn {

// Keras's to_snake_case(): "Conv2D" -> "conv2d", "MaxPooling2D" -> "max_pooling2d",
// "ReLU" -> "re_lu". Two passes, as Keras's two regular expressions: an underscore before every
// capitalised word that follows a character, then between a lower-case letter and a capital.
inline std::string keras_snake_case(const std::string& name) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string words;  // pass 1: (.)([A-Z][a-z]+) -> \1_\2
  for (std::size_t i = 0; i < name.size();) {
    words += name[i];
    std::size_t end = i + 2;
    while (end < name.size() && lower(name[end]))
      ++end;
    if (i + 2 < name.size() && upper(name[i + 1]) && lower(name[i + 2])) {
      words += '_';
      words.append(name, i + 1, end - i - 1);
      i = end;
    } else {
      ++i;
    }
  }
  std::string snake;  // pass 2: ([a-z])([A-Z]) -> \1_\2, then lower case
  for (std::size_t i = 0; i < words.size(); ++i) {
    snake += words[i];
    if (i + 1 < words.size() && lower(words[i]) && upper(words[i + 1])) snake += '_';
  }
  for (char& c : snake)
    if (upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return snake;
}

// `base`, or the first of base_1, base_2, ... for which taken(name) is false.
template <typename Taken>
std::string unique_name(const std::string& base, Taken&& taken) {
  std::string name = base;
  for (long suffix = 1; taken(name); ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name;
}

}  // namespace minicnn
