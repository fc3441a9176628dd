// Text made safe inside the elements and attribute values of HTML and of SVG (XML): the five
// characters that could end a text or an attribute become entities. Shared by report.html
// (visual/report_html.hpp) and the SVG drawings inlined in it (visual/svg.hpp).
#pragma once

#include <string>

namespace minicnn {

inline std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace minicnn
