#pragma once
// Turning the stimulus arguments of a command line into the ordered list of stimuli to probe.
//
//   std::vector<std::string> warnings;
//   torchprobe::ExpandOptions options;
//   options.sweeps = {"grating:ori=0:180:15,sf=2|4|8"};  // 36 gratings
//   auto stimuli = torchprobe::expand_stimuli({"photos/", "@extra.txt", "noise:7"}, options,
//   warnings);
//
// Each argument is, in this order of checks:
//   @LIST          a text file of arguments, one per line. Blank lines are skipped; a line whose
//                  first non-blank character is '#' is a comment, and so is the rest of a line
//                  from a '#' preceded by a blank. Leading and trailing blanks are removed.
//                  Relative paths are resolved against the list file's directory; the id of a
//                  file line is the line as written. Lists may name other lists (8 levels deep).
//   uniform:/noise:/grating:...   one synthetic stimulus (stimulus.h)
//   DIRECTORY      its image files (has_image_extension(), case-insensitive), sorted by their
//                  path relative to DIRECTORY, byte by byte with '/' separators. With
//                  recursive, subdirectories too (symbolic links to directories are not
//                  followed). Names starting with '.' are skipped. The id is the path relative to
//                  DIRECTORY ("cat.png", "set2/dog.jpg"), so ids do not depend on where the folder
//                  is or how it was spelled. Other files are skipped (with one warning per
//                  directory); a directory without images is an error.
//   PATH           an image file; its id is the path as given.
// Ids must be unique across the whole list (e.g. two folders with a cat.png each): a repeated id
// is a StimulusError.
#include <string>
#include <vector>

#include "torchprobe/stimuli/stimulus.h"

namespace torchprobe {

struct ExpandOptions {
  bool recursive = false;           // directories: descend into subdirectories
  std::vector<std::string> sweeps;  // expanded with expand_sweep(), after the arguments
};

// The stimuli of `arguments` in order, then those of the sweeps. Throws StimulusError (missing
// paths, unreadable lists, empty directories, bad specs, repeated ids).
std::vector<StimulusSpec> expand_stimuli(const std::vector<std::string>& arguments,
                                         const ExpandOptions& options,
                                         std::vector<std::string>& warnings);

// A sweep: a synthetic spec whose values may be VALUES = ITEM|ITEM|..., each ITEM a literal or a
// range START:STOP[:STEP] (STEP defaults to 1; STOP is exclusive, as Python's range: the values
// are START + k*STEP for k = 0, 1, ... while before STOP, each rounded to 12 significant digits;
// STEP may be negative, not 0). Every field (the uniform value, the noise seed, each KEY=VALUES
// of noise or grating) is expanded; the result is the cartesian product, in the order the fields
// are written with the last one varying fastest, each a spec with its canonical id:
//   grating:ori=0:180:90,sf=2|4  ->  grating:ori=0,sf=2,phase=0,contrast=1,mean=0.5
//                                    grating:ori=0,sf=4,...   grating:ori=90,sf=2,...
//                                    grating:ori=90,sf=4,...
// An @HxW suffix applies to all. Throws StimulusError for a file spec, an empty or malformed
// range, or more than 100000 stimuli.
std::vector<StimulusSpec> expand_sweep(const std::string& text);

// Throws StimulusError if two stimuli have the same id.
void check_unique_ids(const std::vector<StimulusSpec>& stimuli);

}  // namespace torchprobe
