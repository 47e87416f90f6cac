// run_tool.cc — implementation of the run command shared by slm-run and `slmc run` (see run_tool.h).
#include "run_tool.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>

#include "tensor_io.h"

namespace slm_tools {
namespace {

struct ModelFree {
  void operator()(slm_model_t* m) const { slm_model_free(m); }
};
struct SessionFree {
  void operator()(slm_session_t* s) const { slm_session_free(s); }
};
using ModelPtr = std::unique_ptr<slm_model_t, ModelFree>;
using SessionPtr = std::unique_ptr<slm_session_t, SessionFree>;

int report(const RunOptions& opt, int code, const std::string& msg) {
  std::fprintf(stderr, "%s: error: %s\n", opt.prog.c_str(), msg.c_str());
  return code;
}

// Appends the runtime's own message, which names the op/tensor at fault.
std::string with_runtime_error(const std::string& msg) {
  const char* last = slm_last_error();
  return last && *last ? msg + ": " + last : msg;
}

int report_status(const RunOptions& opt, slm_status_t st, const std::string& msg) {
  return report(opt, run_exit_code(st), with_runtime_error(msg));
}

std::string quoted_names(const std::vector<slm_tensor_info_t>& infos) {
  std::string s;
  for (const slm_tensor_info_t& i : infos) s += (s.empty() ? "'" : ", '") + std::string(i.name) + "'";
  return s.empty() ? "none" : s;
}

bool is_regular_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool ends_with(const std::string& s, const char* suffix) {
  size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string join_path(const std::string& dir, const std::string& file) {
  return dir.empty() || dir.back() == '/' ? dir + file : dir + "/" + file;
}

// mkdir -p: output dirs are often nested per test case.
bool make_dirs(const std::string& path, std::string* err) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      *err = prefix + ": cannot create directory: " + std::strerror(errno);
      return false;
    }
  }
  if (is_directory(path)) return true;
  *err = path + ": not a directory";
  return false;
}

int list_tensors(const RunOptions& opt, const slm_model_t* model, bool inputs,
                 std::vector<slm_tensor_info_t>* out) {
  size_t n = inputs ? slm_model_input_count(model) : slm_model_output_count(model);
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    slm_status_t st = inputs ? slm_model_input_info(model, i, &(*out)[i])
                             : slm_model_output_info(model, i, &(*out)[i]);
    if (st != SLM_OK)
      return report_status(opt, st, opt.artifact + ": cannot read " + (inputs ? "input " : "output ") +
                                        std::to_string(i) + " info");
    if (!(*out)[i].name) (*out)[i].name = "";
  }
  return kRunExitOk;
}

// --------------------------------------------------------------- input files

// Per graph input index, the file that provides it ("" when none yet).
using InputFiles = std::vector<std::string>;

int assign_file(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos, size_t index,
                const std::string& path, InputFiles* files) {
  std::string& slot = (*files)[index];
  if (!slot.empty())
    return report(opt, kRunExitUsage, "input '" + std::string(infos[index].name) +
                                          "' is given twice: " + slot + " and " + path);
  slot = path;
  return kRunExitOk;
}

int resolve_explicit(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos,
                     InputFiles* files) {
  for (const auto& kv : opt.inputs) {
    size_t index = infos.size();
    for (size_t i = 0; i < infos.size(); ++i)
      if (kv.first == infos[i].name) index = i;
    if (index == infos.size())
      return report(opt, kRunExitUsage, "--input " + kv.first + "=" + kv.second + ": " + opt.artifact +
                                            " has no input '" + kv.first + "' (inputs: " +
                                            quoted_names(infos) + ")");
    if (int rc = assign_file(opt, infos, index, kv.second, files)) return rc;
  }
  return kRunExitOk;
}

// Matches a <stem>.npy file to an input: the exact name wins, else a unique
// input whose sanitized name is the stem.
int match_npy_stem(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos,
                   const std::string& stem, const std::string& path, size_t* index) {
  std::vector<size_t> hits;
  for (size_t i = 0; i < infos.size(); ++i) {
    if (stem == infos[i].name) return *index = i, kRunExitOk;
    if (stem == tensor_file_stem(infos[i].name)) hits.push_back(i);
  }
  if (hits.size() == 1) return *index = hits[0], kRunExitOk;
  if (hits.empty())
    return report(opt, kRunExitUsage, path + ": no model input is named '" + stem + "' (inputs: " +
                                          quoted_names(infos) + ")");
  return report(opt, kRunExitUsage, path + ": ambiguous, several inputs sanitize to '" + stem +
                                        "'; use --input NAME=FILE");
}

// Parses "input_<i>.pb" (ONNX backend test layout); false for other names.
bool onnx_input_index(const std::string& file, size_t* index) {
  const char* prefix = "input_";
  if (file.compare(0, 6, prefix) != 0 || !ends_with(file, ".pb") || file.size() <= 9) return false;
  std::string digits = file.substr(6, file.size() - 9);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return false;
  *index = std::strtoul(digits.c_str(), nullptr, 10);
  return true;
}

// Places one directory entry; files that are neither .npy nor input_<i>.pb
// (e.g. ONNX's output_0.pb) are ignored.
int place_dir_entry(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos,
                    const std::string& file, InputFiles* files) {
  std::string path = join_path(opt.input_dir, file);
  size_t index = 0;
  bool npy = ends_with(file, ".npy") && file.size() > 4;
  if (!npy && !onnx_input_index(file, &index)) return kRunExitOk;
  if (!is_regular_file(path)) return kRunExitOk;
  if (npy) {
    if (int rc = match_npy_stem(opt, infos, file.substr(0, file.size() - 4), path, &index)) return rc;
  } else if (index >= infos.size()) {
    return report(opt, kRunExitUsage, path + ": " + opt.artifact + " has only " +
                                          std::to_string(infos.size()) + " inputs (" +
                                          quoted_names(infos) + ")");
  }
  return assign_file(opt, infos, index, path, files);
}

int resolve_dir(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos,
                InputFiles* files) {
  DIR* dir = ::opendir(opt.input_dir.c_str());
  if (!dir)
    return report(opt, kRunExitUsage, opt.input_dir + ": cannot open input directory: " +
                                          std::strerror(errno));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') names.push_back(e->d_name);  // skip dotfiles and our temporaries
  ::closedir(dir);
  for (const std::string& name : names)
    if (int rc = place_dir_entry(opt, infos, name, files)) return rc;
  return kRunExitOk;
}

int resolve_inputs(const RunOptions& opt, const std::vector<slm_tensor_info_t>& infos,
                   InputFiles* files) {
  files->assign(infos.size(), std::string());
  int rc = opt.input_dir.empty() ? resolve_explicit(opt, infos, files) : resolve_dir(opt, infos, files);
  if (rc) return rc;
  std::string missing;
  for (size_t i = 0; i < infos.size(); ++i)
    if ((*files)[i].empty())
      missing += (missing.empty() ? "'" : ", '") + std::string(infos[i].name) + "'";
  if (missing.empty()) return kRunExitOk;
  std::string where = opt.input_dir.empty()
                          ? "give --input NAME=FILE for each"
                          : "expected <name>.npy or input_<index>.pb in " + opt.input_dir;
  return report(opt, kRunExitUsage, "no value for model input " + missing + " (" + where + ")");
}

// ---------------------------------------------------------------- set inputs

// "[batch<=4, 16]": what the artifact accepts, for error messages.
std::string format_bounds(const slm_tensor_info_t& info) {
  std::string s = "[";
  for (int32_t i = 0; i < info.rank; ++i) {
    const char* sym = info.dim_names ? info.dim_names[i] : nullptr;
    s += i ? ", " : "";
    s += sym ? std::string(sym) + "<=" : "";
    s += info.max_dims ? std::to_string(info.max_dims[i]) : "?";
  }
  return s + "]";
}

// Checks dtype, rank and bounds here so the message can show the file's
// shape next to the artifact's; the runtime checks again.
std::string shape_mismatch(const slm_tensor_info_t& info, const HostTensor& t) {
  if (t.dtype != info.dtype)
    return "model expects " + tensor_dtype_name(info.dtype) + " but the file holds " +
           tensor_dtype_name(t.dtype);
  std::string both = "model expects shape " + format_bounds(info) + " but the file holds " +
                     format_dims(t.dims);
  if (static_cast<int64_t>(t.dims.size()) != info.rank || t.dims.size() > SLM_MAX_RANK) return both;
  for (int32_t i = 0; info.max_dims && i < info.rank; ++i) {
    bool symbolic = info.dim_names && info.dim_names[i];
    int64_t bound = info.max_dims[i];
    if (bound >= 0 && (symbolic ? t.dims[i] > bound : t.dims[i] != bound)) return both;
  }
  return "";
}

int set_one_input(const RunOptions& opt, slm_session_t* session, const slm_tensor_info_t& info,
                  const std::string& path) {
  std::string what = "input '" + std::string(info.name) + "' (" + path + ")";
  HostTensor t;
  std::string err;
  if (!read_tensor_file(path, &t, &err))
    return report(opt, kRunExitUsage, "input '" + std::string(info.name) + "': " + err);
  std::string mismatch = shape_mismatch(info, t);
  if (!mismatch.empty()) return report(opt, kRunExitUsage, what + ": " + mismatch);
  slm_tensor_t v{};
  v.dtype = t.dtype;
  v.rank = static_cast<int32_t>(t.dims.size());
  for (size_t i = 0; i < t.dims.size(); ++i) v.dims[i] = t.dims[i];
  v.data = t.data.data();
  v.nbytes = t.data.size();
  slm_status_t st = slm_session_set_input(session, info.name, &v);
  return st == SLM_OK ? kRunExitOk : report_status(opt, st, what + ": rejected by the runtime");
}

// ------------------------------------------------------------------- outputs

// Output file stems, refusing names that would overwrite each other.
int output_file_names(const RunOptions& opt, const std::vector<slm_tensor_info_t>& outs,
                      std::vector<std::string>* names) {
  std::map<std::string, std::string> taken;
  for (size_t i = 0; i < outs.size(); ++i) {
    std::string stem = tensor_file_stem(outs[i].name);
    if (stem.empty()) stem = "output_" + std::to_string(i);
    std::string file = stem + ".npy";
    auto ins = taken.emplace(file, outs[i].name);
    if (!ins.second)
      return report(opt, kRunExitUsage, opt.artifact + ": outputs '" + ins.first->second + "' and '" +
                                            outs[i].name + "' would both be written to " + file);
    names->push_back(file);
  }
  return kRunExitOk;
}

// Temporary files that are removed unless committed, so a failed run leaves nothing behind.
class PendingOutputs {
 public:
  explicit PendingOutputs(std::string dir) : dir_(std::move(dir)) {}
  ~PendingOutputs() {
    for (const std::string& t : temps_) std::remove(t.c_str());
    for (const std::string& f : placed_) std::remove(f.c_str());
  }
  std::string add(const std::string& file) {
    temps_.push_back(join_path(dir_, "." + file + ".tmp." + std::to_string(::getpid())));
    finals_.push_back(join_path(dir_, file));
    return temps_.back();
  }
  // Renames every temporary into place; on failure the destructor undoes the ones already moved.
  bool commit(std::string* err) {
    while (!temps_.empty()) {
      if (std::rename(temps_.front().c_str(), finals_.front().c_str()) != 0) {
        *err = finals_.front() + ": cannot rename into place: " + std::strerror(errno);
        return false;
      }
      placed_.push_back(finals_.front());
      temps_.erase(temps_.begin());
      finals_.erase(finals_.begin());
    }
    placed_.clear();
    return true;
  }

 private:
  std::string dir_;
  std::vector<std::string> temps_, finals_, placed_;
};

int write_all_outputs(const RunOptions& opt, slm_session_t* session,
                      const std::vector<slm_tensor_info_t>& outs,
                      const std::vector<std::string>& files, PendingOutputs* pending) {
  std::string err;
  for (size_t i = 0; i < outs.size(); ++i) {
    slm_tensor_t v{};
    slm_status_t st = slm_session_get_output(session, i, &v);
    std::string what = "output '" + std::string(outs[i].name) + "'";
    if (st != SLM_OK) return report_status(opt, st, what + ": cannot get value");
    if (!write_npy(pending->add(files[i]), v, &err))
      return report(opt, kRunExitUsage, "cannot write " + what + ": " + err);
  }
  if (!pending->commit(&err)) return report(opt, kRunExitUsage, err);
  return kRunExitOk;
}

// Creates the output directory only once there is something to put in it, and
// removes it again (if it was new and stayed empty) when writing fails.
int write_outputs(const RunOptions& opt, slm_session_t* session,
                  const std::vector<slm_tensor_info_t>& outs, const std::vector<std::string>& files) {
  std::string err;
  bool existed = is_directory(opt.output_dir);
  if (!make_dirs(opt.output_dir, &err)) return report(opt, kRunExitUsage, err);
  int rc = kRunExitOk;
  {
    PendingOutputs pending(opt.output_dir);
    rc = write_all_outputs(opt, session, outs, files, &pending);
  }  // temporaries are gone here, so rmdir below can succeed
  if (rc != kRunExitOk && !existed) ::rmdir(opt.output_dir.c_str());
  return rc;
}

// --------------------------------------------------------------------- driver

int check_options(const RunOptions& opt) {
  if (opt.artifact.empty()) return report(opt, kRunExitUsage, "no artifact given");
  if (opt.output_dir.empty()) return report(opt, kRunExitUsage, "--output-dir is required");
  if (!opt.inputs.empty() && !opt.input_dir.empty())
    return report(opt, kRunExitUsage, "use either --input NAME=FILE or --input-dir, not both");
  if (opt.threads < 0)
    return report(opt, kRunExitUsage, "--threads must be >= 0, got " + std::to_string(opt.threads));
  struct stat st;
  if (::stat(opt.output_dir.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    return report(opt, kRunExitUsage, opt.output_dir + ": exists and is not a directory");
  return kRunExitOk;
}

int load_model(const RunOptions& opt, ModelPtr* model) {
  slm_model_t* m = nullptr;
  slm_status_t st = slm_model_load_file(opt.artifact.c_str(), &m);
  if (st != SLM_OK) return report_status(opt, st, opt.artifact + ": cannot load artifact");
  model->reset(m);
  return kRunExitOk;
}

int run_loaded(const RunOptions& opt, slm_model_t* model) {
  std::vector<slm_tensor_info_t> ins, outs;
  InputFiles files;
  std::vector<std::string> out_files;
  if (int rc = list_tensors(opt, model, true, &ins)) return rc;
  if (int rc = list_tensors(opt, model, false, &outs)) return rc;
  if (int rc = output_file_names(opt, outs, &out_files)) return rc;
  if (int rc = resolve_inputs(opt, ins, &files)) return rc;
  slm_session_options_t so{};
  so.num_threads = opt.threads;
  slm_session_t* s = nullptr;
  slm_status_t st = slm_session_create(model, &so, &s);
  if (st != SLM_OK) return report_status(opt, st, opt.artifact + ": cannot create session");
  SessionPtr session(s);
  for (size_t i = 0; i < ins.size(); ++i)
    if (int rc = set_one_input(opt, session.get(), ins[i], files[i])) return rc;
  st = slm_session_run(session.get());
  if (st != SLM_OK) return report_status(opt, st, opt.artifact + ": run failed");
  return write_outputs(opt, session.get(), outs, out_files);
}

// Parses a non-negative decimal int; rejects "", "4x", "-1", overflow.
bool parse_threads(const std::string& s, int* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 6) return false;
  *out = std::atoi(s.c_str());
  return true;
}

// ------------------------------------------------------------- argv parsing

struct ArgState {
  RunOptions opt;
  std::vector<std::string> positional;
  bool seen_input_dir = false, seen_output_dir = false, seen_threads = false;
};

// Applies one --flag with its value; returns "" or a usage error.
std::string apply_flag(ArgState* s, const std::string& flag, const std::string& value) {
  if (flag == "--plugin") {
    if (value.empty()) return "--plugin expects a file";
    s->opt.plugins.push_back(value);
    return "";
  }
  if (flag == "--input") {
    size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
      return "--input expects NAME=FILE, got '" + value + "'";
    s->opt.inputs.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    return "";
  }
  bool* seen = flag == "--input-dir" ? &s->seen_input_dir
               : flag == "--output-dir" ? &s->seen_output_dir : &s->seen_threads;
  if (*seen) return flag + " given twice";
  *seen = true;
  if (value.empty()) return flag + " expects a value";
  if (flag == "--input-dir") s->opt.input_dir = value;
  else if (flag == "--output-dir") s->opt.output_dir = value;
  else if (!parse_threads(value, &s->opt.threads))
    return "--threads expects a non-negative integer, got '" + value + "'";
  return "";
}

// Returns -1 to continue, or an exit code (help printed / usage error).
int parse_args(int argc, char** argv, const char* prog, ArgState* s) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg == "-" || arg.empty() || arg[0] != '-') {
      s->positional.push_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "-h" || arg == "--help") {
      print_run_usage(stdout, prog);
      return kRunExitOk;
    } else {
      size_t eq = arg.find('=');
      std::string flag = arg.substr(0, eq);
      if (flag != "--input" && flag != "--input-dir" && flag != "--output-dir" && flag != "--threads" &&
          flag != "--plugin")
        return report(s->opt, kRunExitUsage, "unknown option '" + arg + "'");
      if (eq == std::string::npos && i + 1 >= argc)
        return report(s->opt, kRunExitUsage, flag + " expects a value");
      std::string value = eq == std::string::npos ? argv[++i] : arg.substr(eq + 1);
      std::string msg = apply_flag(s, flag, value);
      if (!msg.empty()) return report(s->opt, kRunExitUsage, msg);
    }
  }
  return -1;
}

int usage_error(const RunOptions& opt, const std::string& msg) {
  report(opt, kRunExitUsage, msg);
  std::fprintf(stderr, "Try '%s --help' for usage.\n", opt.prog.c_str());
  return kRunExitUsage;
}

}  // namespace

int run_exit_code(slm_status_t status) {
  switch (status) {
    case SLM_OK: return kRunExitOk;
    case SLM_ERROR_INVALID_ARGUMENT:
    case SLM_ERROR_INVALID_ARTIFACT:
    case SLM_ERROR_UNSUPPORTED:
    case SLM_ERROR_IO: return kRunExitUsage;
    default: return kRunExitRuntime;
  }
}

std::string tensor_file_stem(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (c == '/' || c == ':') c = '_';
  return s;
}

int run_artifact(const RunOptions& opt) try {
  // Plugins first: a refused plugin is the message to see, whatever else is wrong.
  for (const std::string& p : opt.plugins)
    if (slm_plugin_load(p.c_str(), nullptr) != SLM_OK) return report(opt, kRunExitUsage, slm_last_error());
  if (int rc = check_options(opt)) return rc;
  ModelPtr model;
  if (int rc = load_model(opt, &model)) return rc;
  return run_loaded(opt, model.get());
} catch (const std::bad_alloc&) {
  return report(opt, kRunExitRuntime, "out of memory");
}

int run_main(int argc, char** argv, const char* prog) {
  ArgState s;
  s.opt.prog = prog;
  int rc = parse_args(argc, argv, prog, &s);
  if (rc == kRunExitUsage) std::fprintf(stderr, "Try '%s --help' for usage.\n", prog);
  if (rc >= 0) return rc;
  if (s.positional.empty()) return usage_error(s.opt, "missing artifact path");
  if (s.positional.size() > 1) return usage_error(s.opt, "unexpected argument '" + s.positional[1] + "'");
  if (!s.seen_output_dir) return usage_error(s.opt, "--output-dir is required");
  if (!s.opt.inputs.empty() && s.seen_input_dir)
    return usage_error(s.opt, "use either --input NAME=FILE or --input-dir, not both");
  s.opt.artifact = s.positional[0];
  return run_artifact(s.opt);
}

void print_run_usage(std::FILE* out, const char* prog) {
  std::fprintf(out,
      "Usage: %s ARTIFACT.slm (--input NAME=FILE)... --output-dir DIR [--threads N]\n"
      "       %s ARTIFACT.slm --input-dir DIR --output-dir DIR [--threads N]\n"
      "\n"
      "Runs a compiled artifact once and writes each output as DIR/<output name>.npy.\n"
      "\n"
      "  --input NAME=FILE  value of graph input NAME from a .npy or ONNX TensorProto .pb file\n"
      "                     (repeat for every input)\n"
      "  --input-dir DIR    read every input from DIR: <input name>.npy ('/' and ':' in names\n"
      "                     may be written '_'), or ONNX test data input_0.pb, input_1.pb, ...\n"
      "                     in graph input order\n"
      "  --output-dir DIR   created if missing; outputs appear only if the whole run succeeds\n"
      "                     ('/' and ':' in output names become '_')\n"
      "  --threads N        worker threads (default 0: all cores)\n"
      "  --plugin PATH.so   load a target plugin's kernel provider (repeatable); needed for\n"
      "                     artifacts compiled with --plugin\n"
      "  -h, --help         show this help\n"
      "\n"
      "Exit status: 0 success; 2 bad usage, input, file or artifact; 1 runtime failure.\n",
      prog, prog);
}

}  // namespace slm_tools
