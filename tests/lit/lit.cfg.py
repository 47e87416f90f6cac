# lit configuration: runs passes/<family>/test/*.mlir with slmc-opt and FileCheck.
import os
import lit.formats

config.name = "slmc-passes"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.test_source_root = os.path.join(config.slmc_src_root, "passes")
config.test_exec_root = os.path.join(config.slmc_obj_root, "out")
config.environment["PATH"] = os.pathsep.join(
    [config.slmc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
# Only the test/ folders hold lit tests.
config.excludes = ["CMakeLists.txt", "Passes.td"]
