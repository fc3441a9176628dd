// Config: a layer's constructor arguments as ordered key/value text, e.g. Conv2D's
// {filters: 32, kernel_size: 3x3, strides: 1x1, padding: valid, use_bias: true,
// kernel_initializer: glorot_uniform}. Checkpoints store it to rebuild the architecture. Values are
// text so that the format is the same for every layer and readable in a hex dump.
#pragma once

#include <charconv>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"

namespace minicnn {

class Config {
 public:
  using Entry = std::pair<std::string, std::string>;

  Config& set(const std::string& key, const std::string& value) {
    for (auto& entry : entries_)
      if (entry.first == key) {
        entry.second = value;
        return *this;
      }
    entries_.emplace_back(key, value);
    return *this;
  }
  Config& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
  Config& set(const std::string& key, bool value) { return set(key, value ? "true" : "false"); }
  Config& set(const std::string& key, Index value) { return set(key, std::to_string(value)); }
  Config& set(const std::string& key, int value) { return set(key, static_cast<Index>(value)); }
  // Doubles are written as the shortest text that reads back bit-identical (0.9, not
  // 0.90000000000000002).
  Config& set(const std::string& key, double value) {
    char text[32];
    const auto written = std::to_chars(text, text + sizeof text, value);
    return set(key, std::string(text, written.ptr));
  }

  bool has(const std::string& key) const { return find(key) != nullptr; }

  const std::string& get(const std::string& key) const {
    const std::string* value = find(key);
    if (value == nullptr) fail("Config: missing key '", key, "' in {", str(), "}");
    return *value;
  }
  Index get_int(const std::string& key) const {
    const std::string& text = get(key);
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size())
      fail("Config: key '", key, "' expected an integer, got '", text, "'");
    return static_cast<Index>(value);
  }
  double get_double(const std::string& key) const {
    const std::string& text = get(key);
    // from_chars, unlike stod, reads "0.9" whatever the C locale's decimal point.
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end)
      fail("Config: key '", key, "' expected a number, got '", text, "'");
    return value;
  }
  bool get_bool(const std::string& key) const {
    const std::string& text = get(key);
    if (text == "true") return true;
    if (text == "false") return false;
    fail("Config: key '", key, "' expected true or false, got '", text, "'");
  }

  const std::vector<Entry>& entries() const { return entries_; }

  // "filters=32, kernel=3x3"
  std::string str() const {
    std::string text;
    for (const auto& [key, value] : entries_) {
      if (!text.empty()) text += ", ";
      text += key + "=" + value;
    }
    return text;
  }

  friend bool operator==(const Config& a, const Config& b) { return a.entries_ == b.entries_; }
  friend bool operator!=(const Config& a, const Config& b) { return !(a == b); }

 private:
  const std::string* find(const std::string& key) const {
    for (const auto& entry : entries_)
      if (entry.first == key) return &entry.second;
    return nullptr;
  }

  std::vector<Entry> entries_;
};

}  // namespace minicnn
