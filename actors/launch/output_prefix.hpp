#pragma once
// How launch shows its agents' output: every line prefixed with the agent's name, padded
// so the lines align, coloured per agent when the stream is a terminal (and NO_COLOR is
// unset). Each line leaves in a single write(2), so lines of different agents and
// launch's own log lines never interleave mid-line.
#include <string>
#include <string_view>
#include <vector>

#include "actors/launch/process.hpp"

namespace sluice::actors {

class output_prefixer {
 public:
  // names: every agent launch may print for (sets the padding and the colour order).
  output_prefixer(const std::vector<std::string>& names, bool color_out, bool color_err);
  // Colour from the terminal: isatty(1) / isatty(2), off when NO_COLOR is set.
  static output_prefixer for_terminal(const std::vector<std::string>& names);

  std::string format(std::string_view agent, actors::output_stream s, std::string_view line) const;
  void write(std::string_view agent, actors::output_stream s, std::string_view line) const;

 private:
  std::vector<std::string> names_;
  std::size_t width_ = 0;
  bool color_[2] = {false, false};
};

}  // namespace sluice::actors
