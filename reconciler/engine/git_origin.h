// Where a run's specs came from when they were read from a git ref
// (git_source.h): recorded in the saved plan, the audit log and the note.
#pragma once

#include <string>

namespace edgecert {

struct GitOrigin {
  std::string repository;  // a URL, or an absolute path
  std::string ref;         // as given: a branch, tag, full ref name or commit id
  std::string commit;      // what the ref named when it was read (full hex)
  std::string path;        // the folder in the tree specs are named from ("" = the root)
};

}  // namespace edgecert
