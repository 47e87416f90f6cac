/* shared_library.c — the translation unit of libslm_runtime.so; its content is the whole static runtime (cmake/SlmcInstall.cmake). */
