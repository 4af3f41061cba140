# The build npm runs (node-gyp). The source lists live in native/sources.gypi, which
# CMakeLists.txt reads too, so the two builds cannot drift apart.
{
  "includes": ["native/sources.gypi"],
  "targets": [
    {
      "target_name": "mcbench",
      "sources": ["<@(mcbench_core_sources)", "<@(mcbench_addon_sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-pthread"]
    }
  ]
}
