#include "torchprobe/stimuli/stimulus_list.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "torchprobe/detail/closest_names.h"
#include "torchprobe/detail/split.h"
#include "torchprobe/errors.h"
#include "torchprobe/stimuli/image.h"

namespace torchprobe {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxListDepth = 8;
constexpr std::size_t kMaxSweep = 100000;

using detail::split;

std::string trim(const std::string& s) {
  const char* blanks = " \t\r\n";
  auto first = s.find_first_not_of(blanks);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

// The line without its comment: everything from a '#' at the start or after a blank.
std::string strip_comment(const std::string& line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

// "gabor:ori=45" with no file of that name: a stimulus kind torchprobe does not know.
void refuse_unknown_kind(const std::string& text) {
  const auto kind = spec_kind(text);
  if (!kind) return;
  const std::string suggestion =
      detail::did_you_mean(detail::closest_names(*kind, synthetic_kinds()));
  std::string kinds;
  for (const auto& k : synthetic_kinds()) kinds += (kinds.empty() ? "" : ", ") + k + ":";
  throw StimulusError(
      "bad stimulus '" + text + "': unknown stimulus kind '" + *kind +
          "' and no file of that name (the kinds are " + kinds + ")",
      suggestion.empty() ? "write ./" + text + " for a file of that name" : suggestion);
}

class Expander {
 public:
  Expander(const ExpandOptions& options, std::vector<std::string>& warnings)
      : options_(options), warnings_(warnings) {}

  // `text` as written; `base` the directory relative paths are resolved against ("" = cwd).
  void add(const std::string& text, const fs::path& base, int depth) {
    if (text.empty()) throw StimulusError("bad stimulus '': empty");
    if (text[0] == '@') {
      add_list(text.substr(1), base, depth);
    } else if (is_synthetic_spec(text)) {
      out.push_back(StimulusSpec::parse(text));
    } else {
      fs::path path = resolve(text, base);
      std::error_code ec;
      auto status = fs::status(path, ec);
      if (fs::is_directory(status)) {
        add_directory(path, text);
      } else if (!fs::exists(status)) {
        refuse_unknown_kind(text);
        throw StimulusError("cannot use image '" + path.string() + "': no such file");
      } else {
        out.push_back(StimulusSpec::file(path.string(), text));
      }
    }
  }

  std::vector<StimulusSpec> out;

 private:
  static fs::path resolve(const std::string& text, const fs::path& base) {
    fs::path p(text);
    return base.empty() || p.is_absolute() ? p : base / p;
  }

  void add_list(const std::string& name, const fs::path& base, int depth) {
    if (name.empty())
      throw StimulusError("bad stimulus '@': expected @LIST.txt, a file of stimuli");
    fs::path path = resolve(name, base);
    if (depth >= kMaxListDepth) {
      throw StimulusError("cannot read stimulus list '" + path.string() +
                          "': lists nested more than " + std::to_string(kMaxListDepth) +
                          " deep (does a list name itself?)");
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      throw StimulusError("cannot read stimulus list '" + path.string() + "': is a directory");
    }
    std::ifstream in(path);
    if (!in) throw StimulusError("cannot read stimulus list '" + path.string() + "': no such file");
    const std::size_t before = out.size();
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      std::string entry = trim(strip_comment(line));
      if (entry.empty()) continue;
      try {
        add(entry, path.parent_path(), depth + 1);
      } catch (const StimulusError& e) {
        throw StimulusError(std::string(e.what()) + " (line " + std::to_string(number) + " of '" +
                                path.string() + "')",
                            e.hint());
      }
    }
    if (in.bad())
      throw StimulusError("cannot read stimulus list '" + path.string() + "': read error");
    if (out.size() == before) {
      throw StimulusError("stimulus list '" + path.string() + "' names no stimuli");
    }
  }

  void add_directory(const fs::path& dir, const std::string& as_given) {
    std::vector<std::string> images;
    std::size_t skipped = 0;
    bool has_subdirectories = false;
    std::error_code ec;
    auto visit = [&](const fs::directory_entry& entry, const fs::path& relative) {
      std::error_code e;
      if (entry.is_regular_file(e)) {
        if (has_image_extension(relative.filename().string())) {
          images.push_back(relative.generic_string());
        } else {
          ++skipped;
        }
      }
    };
    if (options_.recursive) {
      fs::recursive_directory_iterator it(dir, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        if (entry.path().filename().string().rfind('.', 0) == 0) {
          if (entry.is_directory()) it.disable_recursion_pending();
          continue;
        }
        visit(entry, entry.path().lexically_relative(dir));
      }
    } else {
      fs::directory_iterator it(dir, ec), end;
      for (; !ec && it != end; it.increment(ec)) {
        const auto& entry = *it;
        if (entry.path().filename().string().rfind('.', 0) == 0) continue;
        std::error_code e;
        if (entry.is_directory(e)) has_subdirectories = true;
        visit(entry, entry.path().filename());
      }
    }
    if (ec) {
      throw StimulusError("cannot read directory '" + as_given + "': " + ec.message());
    }
    if (images.empty()) {
      throw StimulusError(
          "directory '" + as_given + "' has no image files",
          has_subdirectories ? "add {recursive} to include its subdirectories" : "");
    }
    if (skipped > 0) {
      warnings_.push_back("directory '" + as_given + "': skipped " + std::to_string(skipped) +
                          " file(s) without an image extension");
    }
    std::sort(images.begin(), images.end());
    for (const auto& relative : images) {
      out.push_back(StimulusSpec::file((dir / relative).string(), relative));
    }
  }

  const ExpandOptions& options_;
  std::vector<std::string>& warnings_;
};

bool parse_number(const std::string& text, double& out) {
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return errno == 0 && end == text.c_str() + text.size() && std::isfinite(out);
}

std::string round12(double v) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.12g", v);
  return format_number(std::strtod(text, nullptr));
}

// The values of one field of a sweep: ITEM|ITEM|..., each a literal or START:STOP[:STEP].
std::vector<std::string> sweep_values(const std::string& sweep, const std::string& expr) {
  std::vector<std::string> values;
  for (const auto& item : split(expr, '|')) {
    if (item.find(':') == std::string::npos) {
      values.push_back(item);
      continue;
    }
    auto parts = split(item, ':');
    double start = 0, stop = 0, step = 1;
    if (parts.size() > 3 || !parse_number(parts[0], start) || !parse_number(parts[1], stop) ||
        (parts.size() == 3 && !parse_number(parts[2], step))) {
      throw StimulusError("bad sweep '" + sweep + "': range '" + item +
                          "' must be START:STOP[:STEP] with numbers, e.g. 0:180:15");
    }
    if (step == 0)
      throw StimulusError("bad sweep '" + sweep + "': range '" + item + "' has step 0");
    const double count = std::ceil((stop - start) / step - 1e-9);
    if (!(count >= 1)) {
      throw StimulusError("bad sweep '" + sweep + "': range '" + item +
                          "' gives no values (STOP is exclusive)");
    }
    if (count > double(kMaxSweep)) {
      throw StimulusError("bad sweep '" + sweep + "': range '" + item + "' gives more than " +
                          std::to_string(kMaxSweep) + " values");
    }
    for (int64_t k = 0; k < int64_t(count); ++k)
      values.push_back(round12(start + double(k) * step));
  }
  return values;
}

}  // namespace

std::vector<StimulusSpec> expand_stimuli(const std::vector<std::string>& arguments,
                                         const ExpandOptions& options,
                                         std::vector<std::string>& warnings) {
  Expander expander(options, warnings);
  for (const auto& text : arguments) expander.add(text, {}, 0);
  for (const auto& sweep : options.sweeps) {
    auto specs = expand_sweep(sweep);
    expander.out.insert(expander.out.end(), specs.begin(), specs.end());
  }
  check_unique_ids(expander.out);
  return std::move(expander.out);
}

std::vector<StimulusSpec> expand_sweep(const std::string& text) {
  if (!is_synthetic_spec(text)) {
    throw StimulusError("bad sweep '" + text +
                        "': a sweep is a synthetic spec (uniform:, noise:, grating:), e.g. "
                        "grating:ori=0:180:15,sf=2|4|8");
  }
  auto colon = text.find(':');
  std::string scheme = text.substr(0, colon + 1);
  std::string body = text.substr(colon + 1);
  std::string suffix;
  if (auto at = body.rfind('@'); at != std::string::npos) {
    suffix = body.substr(at);
    body.resize(at);
  }
  // Per field: its "KEY=" prefix (empty for a bare value) and its values.
  std::vector<std::pair<std::string, std::vector<std::string>>> fields;
  std::size_t total = 1;
  for (const auto& field : split(body, ',')) {
    auto eq = field.find('=');
    std::string prefix = eq == std::string::npos ? "" : field.substr(0, eq + 1);
    auto values = sweep_values(text, eq == std::string::npos ? field : field.substr(eq + 1));
    total *= values.size();
    if (total > kMaxSweep) {
      throw StimulusError("bad sweep '" + text + "': more than " + std::to_string(kMaxSweep) +
                          " stimuli");
    }
    fields.emplace_back(prefix, std::move(values));
  }
  std::vector<StimulusSpec> out;
  std::vector<std::size_t> index(fields.size(), 0);
  for (std::size_t n = 0; n < total; ++n) {
    std::string spec = scheme;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (f > 0) spec += ",";
      spec += fields[f].first + fields[f].second[index[f]];
    }
    out.push_back(StimulusSpec::parse(spec + suffix));
    for (std::size_t f = fields.size(); f-- > 0;) {  // odometer, last field fastest
      if (++index[f] < fields[f].second.size()) break;
      index[f] = 0;
    }
  }
  return out;
}

void check_unique_ids(const std::vector<StimulusSpec>& stimuli) {
  std::map<std::string, const StimulusSpec*> seen;
  for (const auto& s : stimuli) {
    auto [it, inserted] = seen.emplace(s.id, &s);
    if (inserted) continue;
    const StimulusSpec& first = *it->second;
    std::string from = first.is_file() && s.is_file() && first.path != s.path
                           ? " (files '" + first.path + "' and '" + s.path + "')"
                           : "";
    throw StimulusError(
        "duplicate stimulus id '" + s.id + "'" + from + ": every stimulus needs its own id",
        "give each stimulus once; for folders with the same file names, probe "
        "them in separate runs or list the files explicitly");
  }
}

}  // namespace torchprobe
