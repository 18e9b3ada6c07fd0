{
  "targets": [
    {
      "target_name": "p256verify",
      "sources": ["p256verify.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"]
    }
  ]
}
