// CommandLine: the small --name value parser the example trainers share. Every option is declared
// with a default and a help line, so --help always lists exactly what the program accepts.
#pragma once

#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "minicnn/error.hpp"

namespace examples {

class CommandLine {
 public:
  CommandLine(std::string program, std::string description)
      : program_(std::move(program)), description_(std::move(description)) {}

  // Declares --name with a default value and a help line.
  CommandLine& option(const std::string& name, const std::string& default_value,
                      const std::string& help) {
    options_.push_back({name, default_value, help});
    values_[name] = default_value;
    return *this;
  }

  // Parses argv; returns false when --help was asked (the help has been printed then).
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        print_help(std::cout);
        return false;
      }
      if (arg.rfind("--", 0) != 0) minicnn::fail(program_, ": unexpected argument '", arg, "'");
      std::string name = arg.substr(2), value;
      const auto equals = name.find('=');
      if (equals != std::string::npos) {
        value = name.substr(equals + 1);
        name = name.substr(0, equals);
      } else {
        if (i + 1 >= argc) minicnn::fail(program_, ": option --", name, " needs a value");
        value = argv[++i];
      }
      if (values_.count(name) == 0)
        minicnn::fail(program_, ": unknown option --", name, " (see --help)");
      values_[name] = value;
    }
    return true;
  }

  const std::string& get(const std::string& name) const { return values_.at(name); }

  long long get_int(const std::string& name) const {
    const std::string& text = get(name);
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0')
      minicnn::fail(program_, ": --", name, " expects an integer, got '", text, "'");
    return value;
  }

  double get_double(const std::string& name) const {
    const std::string& text = get(name);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0')
      minicnn::fail(program_, ": --", name, " expects a number, got '", text, "'");
    return value;
  }

  // The command as typed, for reports.
  static std::string command(int argc, char** argv) {
    std::string text;
    for (int i = 0; i < argc; ++i)
      text += (i > 0 ? " " : "") + std::string(argv[i]);
    return text;
  }

  void print_help(std::ostream& out) const {
    out << "Usage: " << program_ << " [--option value ...]\n\n" << description_ << "\n\nOptions:\n";
    for (const auto& o : options_)
      out << "  --" << std::left << std::setw(18) << o.name << o.help
          << " (default: " << (o.default_value.empty() ? "none" : o.default_value) << ")\n";
    out << "  --help              this text\n";
  }

 private:
  struct Option {
    std::string name, default_value, help;
  };
  std::string program_, description_;
  std::vector<Option> options_;
  std::map<std::string, std::string> values_;
};

}  // namespace examples
