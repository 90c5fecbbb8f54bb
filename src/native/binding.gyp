{
  "targets": [
    {
      "target_name": "fsnative",
      "sources": ["fsnative.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
