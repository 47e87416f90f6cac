# Helper functions shared by the slmc CMake files.

# slmc_warnings(target): the project's warning set.
function(slmc_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
