{
  "variables": {
    "mcbench_core_sources": [
      "native/core/session_table.cc",
      "native/core/socket.cc",
      "native/core/sender.cc",
      "native/core/receiver.cc",
      "native/core/igmp.cc",
      "native/core/flock.cc",
      "native/core/rtt.cc",
      "native/core/ssm_router.cc"
    ],
    "mcbench_addon_sources": [
      "native/addon.cc"
    ]
  }
}
