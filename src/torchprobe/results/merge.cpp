#include "torchprobe/results/merge.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <queue>

#include "torchprobe/detail/atomic_file.h"
#include "torchprobe/detail/json_text.h"
#include "torchprobe/errors.h"
#include "torchprobe/output/json_document_writer.h"
#include "torchprobe/output/jsonl_writer.h"
#include "torchprobe/results/jsonl_reader.h"
#include "torchprobe/run/resume.h"
#include "torchprobe/run/shard.h"

namespace torchprobe {
namespace {

const char* const kRerunHint =
    "rerun the missing or incomplete shards (the same command with {resume}) and merge again";
// Shards not given that an error names one by one; the rest it counts.
constexpr int64_t kNamedAbsentShards = 8;

// One part, read one record ahead.
struct Part {
  explicit Part(const std::string& path) : reader(path) {}

  JsonlReader reader;
  nlohmann::json header;
  int64_t list_size = 0;  // stimulus_list.count
  int64_t shard_index = 1;
  int64_t shard_count = 1;
  int64_t expected = 0;  // records the part should hold
  int64_t records = 0;   // records read so far
  // The record last read:
  int64_t index = -1;
  std::string line;
  nlohmann::json record;

  // Reads the next record; false at the end of the part.
  bool advance(int64_t list_size) {
    if (!reader.next_line(line)) return false;
    record = reader.parse_object(line);
    auto field = record.find("index");
    auto id = record.find("id");
    if (field == record.end() || !field->is_number_integer() || id == record.end() ||
        !id->is_string()) {
      reader.fail("line " + std::to_string(reader.line_number()) +
                  " is not a stimulus record with \"index\" and \"id\"");
    }
    int64_t next = field->get<int64_t>();
    if (next < 0 || next >= list_size) {
      reader.fail("line " + std::to_string(reader.line_number()) + " has index " +
                  std::to_string(next) + ", outside the list of " + std::to_string(list_size));
    }
    if (next <= index) {
      reader.fail("line " + std::to_string(reader.line_number()) + " has index " +
                  std::to_string(next) + " after " + std::to_string(index) +
                  " (records out of order)");
    }
    index = next;
    records += 1;
    return true;
  }
};

// The header field `where` (object[key]), an integer in [low, high]. NOTE: a part's header comes
// from a file, perhaps damaged or edited: merge indexes and counts by these numbers only after
// this check.
int64_t integer_field(const Part& part, const nlohmann::json& object, const char* key,
                      const std::string& where, int64_t low, int64_t high) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    part.reader.fail("its header has no integer " + where);
  }
  const bool too_big = it->is_number_unsigned() &&
                       it->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max());
  if (too_big || it->get<int64_t>() < low || it->get<int64_t>() > high) {
    part.reader.fail("its header's " + where + " " + it->dump() + " is outside " +
                     std::to_string(low) + ".." + std::to_string(high));
  }
  return it->get<int64_t>();
}

// "3, 5-9, 12" for the first few ranges of missing indices.
class MissingRanges {
 public:
  void add(int64_t from, int64_t to) {  // [from, to)
    if (from >= to) return;
    count_ += to - from;
    if (ranges_.size() < 8) ranges_.emplace_back(from, to);
  }
  int64_t count() const { return count_; }
  std::string text() const {
    std::string out;
    for (const auto& [from, to] : ranges_) {
      if (!out.empty()) out += ", ";
      out += std::to_string(from);
      if (to - from > 1) out += "-" + std::to_string(to - 1);
    }
    int64_t shown = 0;
    for (const auto& [from, to] : ranges_) shown += to - from;
    if (shown < count_) out += ", ...";
    return out;
  }

 private:
  std::vector<std::pair<int64_t, int64_t>> ranges_;
  int64_t count_ = 0;
};

// Opens a part and reads its header: the list size, shard K/N (1/1 when unsharded) and the
// records it should hold.
std::unique_ptr<Part> read_part_header(const std::string& path) {
  auto part = std::make_unique<Part>(path);
  std::string line;
  if (!part->reader.next_line(line)) {
    part->reader.fail("no header line (an empty file, or one cut short before its header)");
  }
  part->header = part->reader.parse_header(line);
  auto list = part->header.find("stimulus_list");
  if (list == part->header.end() || !list->is_object()) {
    part->reader.fail("its header has no \"stimulus_list\" (written by torchprobe before 0.2?)");
  }
  part->list_size = integer_field(*part, *list, "count", "stimulus_list.count", 0,
                                  std::numeric_limits<int64_t>::max());
  part->expected = part->list_size;
  auto shard = part->header.find("shard");
  if (shard != part->header.end()) {
    if (!shard->is_object()) part->reader.fail("its header's \"shard\" is not an object");
    part->shard_count = integer_field(*part, *shard, "count", "shard.count", 1, Shard::kMaxCount);
    part->shard_index = integer_field(*part, *shard, "index", "shard.index", 1, part->shard_count);
    part->expected = integer_field(*part, *shard, "stimuli", "shard.stimuli", 0, part->list_size);
  }
  return part;
}

// All headers are read before any is compared, so that a broken part is named first.
std::vector<std::unique_ptr<Part>> read_part_headers(const std::vector<std::string>& paths) {
  std::vector<std::unique_ptr<Part>> parts;
  for (const auto& path : paths) parts.push_back(read_part_header(path));
  return parts;
}

// Checks that the parts come from one run split into one number of shards: only their records
// may then be put together.
void check_parts_of_one_run(const std::vector<std::unique_ptr<Part>>& parts) {
  const Part& first = *parts.front();
  for (const auto& part : parts) {
    std::string diff = header_difference(first.header, part->header, {"shard", "model.path"});
    if (!diff.empty()) {
      throw ResultsFormatError("cannot merge '" + first.reader.path() + "' and '" +
                                   part->reader.path() + "': their headers differ: " + diff,
                               "merge only the parts of one run (same model, layers, options "
                               "and stimulus list)");
    }
    if (part->shard_count != first.shard_count) {
      throw ResultsFormatError(
          "cannot merge '" + first.reader.path() + "' (shard " + std::to_string(first.shard_index) +
          "/" + std::to_string(first.shard_count) + ") and '" + part->reader.path() + "' (shard " +
          std::to_string(part->shard_index) + "/" + std::to_string(part->shard_count) +
          "): they split the list into different numbers of shards");
    }
  }
}

// The parts in shard order; a shard given twice would repeat its stimuli. NOTE: not a table of
// shard_count slots: the count comes from a file, and most slots may be empty.
std::vector<const Part*> parts_by_shard(const std::vector<std::unique_ptr<Part>>& parts) {
  std::vector<const Part*> by_shard;
  for (const auto& part : parts) by_shard.push_back(part.get());
  std::stable_sort(by_shard.begin(), by_shard.end(),
                   [](const Part* a, const Part* b) { return a->shard_index < b->shard_index; });
  for (std::size_t i = 1; i < by_shard.size(); ++i) {
    const Part& earlier = *by_shard[i - 1];
    const Part& part = *by_shard[i];
    if (part.shard_index == earlier.shard_index) {
      throw ResultsFormatError("cannot merge: '" + earlier.reader.path() + "' and '" +
                                   part.reader.path() + "' are both shard " +
                                   std::to_string(part.shard_index) + "/" +
                                   std::to_string(part.shard_count),
                               "give each shard once");
    }
  }
  return by_shard;
}

// The header of the whole run: the lowest shard's, without "shard", so that the merged output
// equals the unsharded run's.
nlohmann::json merged_header(const std::vector<const Part*>& by_shard) {
  nlohmann::json header = by_shard.front()->header;
  header.erase("shard");
  return header;
}

// The merged output in the format its path asks for: JSON Lines copied line by line (atomic on
// commit), or one JSON document held in memory.
class MergedOutput {
 public:
  MergedOutput(const std::string& path, const nlohmann::json& header)
      : lines_(is_jsonl_path(path)) {
    if (lines_) {
      file_.emplace(path);
      file_->stream() << dump_json(header, /*pretty=*/false) << '\n';
    } else {
      document_.emplace(path);
      document_->header(header);
    }
  }

  // Writes the record `part` last read; in JSON Lines its line byte for byte.
  void record(const Part& part) {
    if (lines_) {
      file_->stream() << part.line << '\n';
    } else {
      document_->record(part.record);
    }
  }

  void commit() {
    if (lines_) {
      file_->commit();
    } else {
      document_->finish();
    }
  }

 private:
  bool lines_;
  std::optional<AtomicFile> file_;
  std::optional<JsonDocumentWriter> document_;
};

// Writes the parts' records in stimulus order: a k-way merge on "index", one record per part in
// memory. Counts them in `summary` and the indices no part holds in `missing`.
void merge_records(std::vector<std::unique_ptr<Part>>& parts, int64_t list_size,
                   MergedOutput& output, MergeSummary& summary, MissingRanges& missing) {
  using Entry = std::pair<int64_t, std::size_t>;  // index, part
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i]->advance(list_size)) queue.emplace(parts[i]->index, i);
  }
  int64_t next = 0;  // the index expected next
  const Part* previous = nullptr;
  while (!queue.empty()) {
    auto [index, i] = queue.top();
    queue.pop();
    Part& part = *parts[i];
    if (index < next) {
      throw ResultsFormatError("cannot merge: stimulus " + std::to_string(index) + " '" +
                                   part.record["id"].get<std::string>() + "' is in both '" +
                                   previous->reader.path() + "' and '" + part.reader.path() + "'",
                               "give each shard once");
    }
    missing.add(next, index);
    output.record(part);
    summary.records += 1;
    if (part.record.contains("error")) summary.bad += 1;
    next = index + 1;
    previous = &part;
    if (part.advance(list_size)) queue.emplace(part.index, i);
  }
  missing.add(next, list_size);
}

// "; no part is shard K/N" for the shards in [from, to), while fewer than kNamedAbsentShards
// are named in `which` (`named` counts them).
void name_absent_shards(int64_t from, int64_t to, int64_t count, int64_t& named,
                        std::string& which) {
  for (int64_t k = from; k < to && named < kNamedAbsentShards; ++k, ++named) {
    which += "; no part is shard " + std::to_string(k) + "/" + std::to_string(count);
  }
}

// Fails the merge naming the missing indices and what is wrong with the shards that should
// hold them (not given, or incomplete), so that the user knows which shards to rerun.
[[noreturn]] void throw_missing_stimuli(const MissingRanges& missing,
                                        const std::vector<const Part*>& by_shard,
                                        int64_t list_size) {
  const int64_t count = by_shard.front()->shard_count;
  std::string which;
  int64_t next = 1, named = 0;  // the shard after the last part seen; absent shards named
  for (const Part* part : by_shard) {
    name_absent_shards(next, part->shard_index, count, named, which);
    next = part->shard_index + 1;
    if (part->records < part->expected) {
      which += "; '" + part->reader.path() + "' (shard " + std::to_string(part->shard_index) + "/" +
               std::to_string(count) + ") holds " + std::to_string(part->records) + " of its " +
               std::to_string(part->expected) + " stimuli" +
               (part->reader.torn() ? " and ends in a torn line" : "");
    }
  }
  name_absent_shards(next, count + 1, count, named, which);
  const int64_t absent = count - int64_t(by_shard.size());
  if (absent > named)
    which += "; and " + std::to_string(absent - named) + " more shards are not given";

  throw ResultsFormatError("cannot merge: " + std::to_string(missing.count()) + " of " +
                               std::to_string(list_size) + " stimuli are missing (indices " +
                               missing.text() + ")" + which,
                           kRerunHint);
}

}  // namespace

MergeSummary merge_results(const std::vector<std::string>& paths, const std::string& output,
                           const MergeOptions& options) {
  if (paths.empty()) throw UsageError("merge: no parts given");
  std::error_code error;
  if (!options.force && std::filesystem::exists(output, error)) {
    throw_output_exists(output, /*resumable=*/false);
  }

  std::vector<std::unique_ptr<Part>> parts = read_part_headers(paths);
  const Part& first = *parts.front();
  const int64_t list_size = first.list_size;  // the same in every part (check_parts_of_one_run)
  check_parts_of_one_run(parts);
  const std::vector<const Part*> by_shard = parts_by_shard(parts);

  MergedOutput merged(output, merged_header(by_shard));
  MergeSummary summary;
  summary.parts = int64_t(parts.size());
  MissingRanges missing;
  merge_records(parts, list_size, merged, summary, missing);
  if (missing.count() > 0) throw_missing_stimuli(missing, by_shard, list_size);
  merged.commit();
  return summary;
}

}  // namespace torchprobe
