{
  "targets": [
    {
      "target_name": "iotchain_native",
      "sources": ["addon.c", "p256verify.c", "merkle.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
