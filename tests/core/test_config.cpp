// Specification of Config, the key/value text a layer or optimizer is rebuilt from (and that
// checkpoints store): numbers written as the shortest text that reads back bit-identical, and
// refused with the key and the text when they are not numbers.
#include <doctest/doctest.h>

#include <limits>

#include "minicnn/config.hpp"

using namespace minicnn;

TEST_CASE("Config writes doubles as the shortest text that reads back bit-identical") {
  Config config;
  config.set("momentum", 0.9).set("epsilon", 1e-7).set("third", 1.0 / 3.0).set("tiny", 5e-324);
  CHECK(config.get("momentum") == "0.9");
  CHECK(config.get("epsilon") == "1e-07");
  for (const char* key : {"momentum", "epsilon", "third", "tiny"}) {
    CAPTURE(key);
    const double value = config.get_double(key);
    Config again;
    again.set(key, value);
    CHECK(again.get(key) == config.get(key));
  }
  CHECK(config.get_double("third") == 1.0 / 3.0);
  CHECK(config.get_double("tiny") == std::numeric_limits<double>::denorm_min());
}

TEST_CASE("Config refuses a number that is not one, naming the key and the text") {
  Config config;
  config.set("rate", "0.5x").set("empty", "").set("huge", "1e999").set("units", "12.5");
  CHECK_THROWS_WITH(config.get_double("rate"), "Config: key 'rate' expected a number, got '0.5x'");
  CHECK_THROWS_WITH(config.get_double("empty"), "Config: key 'empty' expected a number, got ''");
  CHECK_THROWS_WITH(config.get_double("huge"), "Config: key 'huge' expected a number, got '1e999'");
  CHECK_THROWS_AS(config.get_int("units"), Error);
}
