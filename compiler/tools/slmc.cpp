// slmc: the command-line front end (compile, run, inspect, targets), flags parsed with Boost.Program_options.
#include "pipeline/Pipeline.h"
#include "pipeline/TargetFeatures.h"
#include "pipeline/Targets.h"
#include "run_tool.h"
#include "tools/Bench.h"
#include "tools/Generate.h"
#include "tools/Inspect.h"

#include <boost/program_options.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace {

constexpr const char *kUsage = R"(usage: slmc <command> [options]

commands:
  compile MODEL.onnx --target=NAME -o OUT.slm [--dim NAME=MAX]...   compile an ONNX model
          [--quantize=w8|w4|w8a8|w4a8|fp16|bf16|int8 [--group-size=G] [--asymmetric] [--keep-float=RE]
                      [--quant-method=rtn|awq|gptq] [--max-accuracy-drop=X [--no-accuracy-backoff]] [--calibration-data DIR]]
          [--prune=ffn:F,heads:F,2:4 [--calibration-data DIR [--prune-bias-correction]]]
          [-v] [--print-pipeline] [--dump-after=PASS]... [--disable-pass=PASS]...
          [--cpu=NAME|native] [--features=+a,-b] [--codegen] [--emit=c] feature level; generated kernels (also as C)
          [--kv-cache=io|state]                                    LM caches as inputs/outputs or session state
          [--plugin PATH.so]...                                    load a target plugin; --target one of its targets
  run ART.slm (--input NAME=FILE)... | --input-dir DIR --output-dir DIR [--threads N] [--plugin PATH.so]...
  inspect ART.slm [--json]                                         summarize an artifact
  bench [ORIGINAL.onnx] ART.slm [ART2.slm ...] [--json FILE] [--markdown FILE] [--plot FILE]
        [--prompt-len P] [--decode N] [--threads T] [--repeat R] [--input NAME=FILE | --input-dir DIR]
        [--eval-text FILE [--tokenizer bytes|tokenizer.json]] [--compare-ort] [--quiet]
                                                                   compressed vs original: size, load, RSS,
                                                                   latency, LM speed, accuracy, perplexity
  generate ART.slm --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K] [--seed S]
        [--tokenizer bytes|tokenizer.json]                         stream text from an LM, then its speed
  targets [--plugin PATH.so]...                                    list targets (built-in and plugins')
  --version
)";

int usageError(const std::string &msg) {
  std::cerr << "slmc: error: " << msg << "\n" << kUsage;
  return 2;
}

po::variables_map parse(int argc, char **argv, const po::options_description &desc,
                        const po::positional_options_description &pos) {
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
  po::notify(vm);
  return vm;
}

int cmdCompile(int argc, char **argv) {
  slmc::CompileOptions opt;
  std::vector<std::string> dims;
  std::string kvCache, emitWhat;
  po::options_description desc("slmc compile");
  desc.add_options()("help,h", "show help")("model", po::value(&opt.input), "ONNX model")(
      "target", po::value(&opt.target)->default_value("x86_64"), "target name (see `slmc targets`)")(
      "output,o", po::value(&opt.output), "output .slm path")(
      "dim", po::value(&dims)->composing(), "bound of a symbolic dim, NAME=MAX (repeatable)")(
      "verbose,v", po::bool_switch(&opt.verbose), "print a summary (and ops before/after each pass)")(
      "print-pipeline", po::bool_switch(&opt.printPipeline), "list the passes and exit")(
      "dump-after", po::value(&opt.dumpAfter)->composing(), "print the IR after PASS to stdout (repeatable)")(
      "disable-pass", po::value(&opt.disablePass)->composing(), "leave PASS out (repeatable)")(
      "quantize", po::value(&opt.quantize), "quantization: w8, w4 (weight-only), w8a8, w4a8 (int8 activations per token) or fp16, bf16 (storage)")(
      "group-size", po::value(&opt.groupSize), "quantization group along K: 0 (per channel), 32, 64, 128")(
      "asymmetric", po::bool_switch(&opt.asymmetric), "quantize with zero points")(
      "symmetric", po::bool_switch(), "quantize without zero points (the default)")(
      "keep-float", po::value(&opt.keepFloat), "regex of layer names to leave in float")(
      "act-scales", po::value(&opt.actScales)->default_value("group"),
      "int8 activation scales of w8a8/w4a8: group (one per token and weight group of K, the default; as ONNX "
      "Runtime's MatMulNBits at accuracy level 4 and llama.cpp's Q8 blocks) or row (one per token)")(
      "quant-method", po::value(&opt.quantMethod)->default_value("rtn"),
      "rtn (round to nearest); awq: activation-aware per-channel scaling searched on --calibration-data, folded "
      "into the preceding norm or up projection, before rounding; gptq: error-compensating rounding row by row with "
      "H = X^T X of the calibration inputs")(
      "max-accuracy-drop", po::value(&opt.maxAccuracyDrop),
      "budget X for the first output's relative L2 error ||q - f|| / ||f|| against the float model on "
      "--calibration-data; layers with the largest relative weight error are kept in float (1, 2, 4, ...) until it "
      "is met, else exit 1")(
      "no-accuracy-backoff", "with --max-accuracy-drop: fail (exit 1) instead of keeping layers in float")(
      "cpu", po::value(&opt.cpu), "CPU to compile for (LLVM name, e.g. skylake-avx512, cortex-a76, or native); "
      "its features become required at run time")(
      "features", po::value(&opt.features), "+a,-b: features on top of the CPU's (see `slmc targets`); "
      "-x also keeps the runtime from using kernels that need x")(
      "codegen", po::bool_switch(&opt.codegen), "generate kernels (rms_norm, Softmax, LayerNormalization) into a code segment")(
      "emit", po::value(&emitWhat), "c: also write the generated kernels as C source (MLIR EmitC) to OUT.kernels.c, "
      "for vendor toolchains (implies --codegen)")(
      "plugin", po::value(&opt.plugins)->composing(), "load a target plugin library PATH.so (repeatable)")(
      "prune", po::value(&opt.prune),
      "pruning before quantization, SPEC[,SPEC]: ffn:F removes fraction F of the FFN intermediate "
      "channels, heads:F fraction F of the attention heads (whole KV groups or the same count per group); 2:4 keeps "
      "two of every four weights along K in each matmul not producing a model output, the largest, or with "
      "--calibration-data chosen and compensated SparseGPT-style through X^T X "
      "(slm.matmul_sp24: 0.56x the weight bytes, zeros skipped by the AVX-512 kernel). magnitude:S zeroes fraction S "
      "of each such matmul's weights in every column, the smallest, or with --calibration-data SparseGPT-style, and "
      "stores it masked (slm.matmul_sparse: (1-S) of the bytes plus 1/32, zeros skipped by the AVX-512 kernel) when "
      "S >= 0.5; below that the masked form does not pay (decode gains from S = 0.3, prefill loses below 0.7), so "
      "the zeros stay dense and the report says it was not worth it. "
      "With --quantize the zeros go into the quantized weights; w8a8/w4a8 codes are stored masked "
      "(slm.matmul_a8_sparse) where that takes at most 0.65x their bytes, other schemes keep the zeros dense")(
      "calibration-data", po::value(&opt.calibrationData),
      "folder of <input>.npy files, or of one such folder per input set: pruning importance from activations "
      "(run through the runtime on this host) and the pruned model's error against the unpruned one")(
      "prune-bias-correction", po::bool_switch(&opt.pruneBiasCorrection),
      "fold the removed channels' mean contribution into the next projection's bias (needs --calibration-data)")(
      "kv-cache", po::value(&kvCache)->default_value("io"),
      "io: attention KV caches stay graph inputs (past_*) and outputs (present_*); state: they become session "
      "state that the runtime appends in place (no per-token copies; capacity = the bound of the past dim; "
      "slm_session_reset_state starts over)")(
      "threads", po::value(&opt.threads)->default_value(1), "compiler threads (0: all cores); the artifact is the same");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm = parse(argc, argv, desc, pos);
  if (vm.count("help")) {
    std::cout << "usage: slmc compile MODEL.onnx --target=NAME -o OUT.slm [options]\n" << desc;
    return 0;
  }
  if (!opt.printPipeline && (opt.input.empty() || opt.output.empty()))
    return usageError("compile needs MODEL.onnx and -o OUT.slm");
  for (const auto &d : dims) {
    auto eq = d.find('=');
    int64_t v = -1;
    try {
      if (eq != std::string::npos) v = std::stoll(d.substr(eq + 1));
    } catch (...) {
    }
    if (eq == std::string::npos || eq == 0 || v <= 0)
      return usageError("--dim '" + d + "' must be NAME=MAX with MAX a positive integer");
    opt.dimBounds[d.substr(0, eq)] = v;
  }
  if (opt.threads < 0) return usageError("--threads must be 0 (all cores) or a positive count");
  opt.accuracyBackoff = !vm.count("no-accuracy-backoff");
  if (!emitWhat.empty() && emitWhat != "c") return usageError("--emit must be c, not '" + emitWhat + "'");
  opt.emitC = emitWhat == "c";
  if (vm.count("max-accuracy-drop") && !(opt.maxAccuracyDrop >= 0))
    return usageError("--max-accuracy-drop must be a relative error >= 0 (e.g. 0.05)");
  if (kvCache != "io" && kvCache != "state") return usageError("--kv-cache must be io or state, not '" + kvCache + "'");
  opt.kvState = kvCache == "state";
  return slmc::compileModel(opt);
}

int cmdRun(int argc, char **argv) {
  slm_tools::RunOptions opt;
  opt.prog = "slmc";
  std::vector<std::string> inputs;
  po::options_description desc("slmc run");
  desc.add_options()("help,h", "show help")("artifact", po::value(&opt.artifact), ".slm artifact")(
      "input", po::value(&inputs)->composing(), "NAME=FILE (.npy or .pb), repeatable")(
      "input-dir", po::value(&opt.input_dir), "folder of <name>.npy or input_<i>.pb files")(
      "output-dir", po::value(&opt.output_dir), "folder for <output name>.npy")(
      "threads", po::value(&opt.threads)->default_value(0), "threads (0: all cores)")(
      "plugin", po::value(&opt.plugins)->composing(), "load a plugin's kernel provider PATH.so (repeatable)");
  po::positional_options_description pos;
  pos.add("artifact", 1);
  po::variables_map vm = parse(argc, argv, desc, pos);
  if (vm.count("help")) {
    std::cout << "usage: slmc run ART.slm (--input NAME=FILE)... | --input-dir DIR --output-dir DIR [--threads N]\n"
              << desc;
    return 0;
  }
  if (opt.artifact.empty() || opt.output_dir.empty()) return usageError("run needs ART.slm and --output-dir DIR");
  for (const auto &in : inputs) {
    auto eq = in.find('=');
    if (eq == std::string::npos || eq == 0) return usageError("--input '" + in + "' must be NAME=FILE");
    opt.inputs.push_back({in.substr(0, eq), in.substr(eq + 1)});
  }
  if (opt.inputs.empty() == opt.input_dir.empty())
    return usageError("give either --input NAME=FILE (repeatable) or --input-dir DIR");
  return slm_tools::run_artifact(opt);
}

int cmdInspect(int argc, char **argv) {
  std::string artifact;
  bool json = false;
  po::options_description desc("slmc inspect");
  desc.add_options()("artifact", po::value(&artifact)->required(), ".slm artifact")(
      "json", po::bool_switch(&json), "JSON output");
  po::positional_options_description pos;
  pos.add("artifact", 1);
  parse(argc, argv, desc, pos);
  return slmc::inspectArtifact(artifact, json);
}

int cmdBench(int argc, char **argv) { return slmc::benchMain(argc, argv); }

int cmdTargets(int argc, char **argv) {
  std::vector<std::string> plugins;
  po::options_description desc("slmc targets");
  desc.add_options()("help,h", "show help")("plugin", po::value(&plugins)->composing(),
                                             "also list the targets of plugin PATH.so (repeatable)")(
      "features", "list each target's default CPU, default features and the features --features accepts");
  po::variables_map vm = parse(argc, argv, desc, po::positional_options_description());
  if (vm.count("help")) {
    std::cout << "usage: slmc targets [--plugin PATH.so]...\n" << desc;
    return 0;
  }
  for (const auto &p : plugins) {
    std::string error;
    if (!slmc::loadPlugin(p, &error)) {
      std::cerr << "slmc: error: " << error << "\n";
      return 2;
    }
  }
  if (vm.count("features")) {
    for (const auto &t : slmc::registeredTargets()) {
      std::string defaults, known;
      for (const auto &f : t.features) defaults += (defaults.empty() ? "" : ",") + f;
      for (const auto &f : slmc::knownFeatures(t.name)) known += (known.empty() ? "" : ",") + f;
      std::cout << t.name << "\tcpu=" << t.cpu << "\tdefault=" << defaults << "\tknown=" << known << "\n";
    }
    return 0;
  }
  // name, triple, origin (built-in, or the plugin file and its host target), description
  for (const auto &t : slmc::registeredTargets())
    std::cout << t.name << "\t" << t.triple << "\t"
              << (t.builtin ? std::string("built-in") : "plugin " + t.pluginPath + " (host " + t.host + ")") << "\t"
              << t.description << "\n";
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) return usageError("no command given");
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "slmc " SLMC_VERSION "\n";
    return 0;
  }
  try {
    if (cmd == "compile") return cmdCompile(argc - 1, argv + 1);
    if (cmd == "run") return cmdRun(argc - 1, argv + 1);
    if (cmd == "inspect") return cmdInspect(argc - 1, argv + 1);
    if (cmd == "bench") return cmdBench(argc - 1, argv + 1);
    if (cmd == "generate") return slmc::generateMain(argc - 1, argv + 1);
    if (cmd == "targets") return cmdTargets(argc - 1, argv + 1);
  } catch (const po::error &e) {
    return usageError(std::string(cmd) + ": " + e.what());
  }
  return usageError("unknown command '" + cmd + "'");
}
