// RFC 6962 / RFC 9162 Merkle tree hash over SHA-256, for crypto/merkle.ts: one call per root
// instead of two SHA-256 calls per leaf from JavaScript, each a node:crypto call, a digest string
// and a fresh array (BENCHMARKS.md, session 11). SHA-256 is OpenSSL's (the copy linked into Node);
// the tree shape is crypto/merkle.ts's, and the tests compare the two on random inputs.
//
// merkleRoot(items: Uint8Array[]) -> Uint8Array(32)
//   leaf = SHA-256(0x00 || item), node = SHA-256(0x01 || left || right). Computed bottom-up, pairing
//   neighbours and carrying an odd last node up unchanged: the same tree as RFC 6962's split at the
//   largest power of two below the size. An empty list gives SHA-256("").
// Anything but an array of Uint8Arrays throws a TypeError.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/sha.h>
#include "native.h"

#define MAX_ITEMS (1u << 24)

static void leaf_hash(const unsigned char* data, size_t len, unsigned char* out) {
  static const unsigned char tag = 0x00;
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, &tag, 1);
  SHA256_Update(&c, data, len);
  SHA256_Final(out, &c);
}

static void node_hash(const unsigned char* left, const unsigned char* right, unsigned char* out) {
  unsigned char buf[65];
  buf[0] = 0x01;
  memcpy(buf + 1, left, 32);
  memcpy(buf + 33, right, 32);
  SHA256(buf, sizeof buf, out);
}

static napi_value merkle_root(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return native_throw_type(env, "merkleRoot(items)");
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &n) != napi_ok) {
    return native_throw_type(env, "items must be an array of Uint8Arrays");
  }
  if (n > MAX_ITEMS) return native_throw_type(env, "too many items");
  unsigned char root[32];
  if (n == 0) {
    SHA256(NULL, 0, root);
  } else {
    unsigned char* level = malloc((size_t)n * 32);
    if (level == NULL) {
      napi_throw_error(env, NULL, "out of memory");
      return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
      napi_value item;
      const unsigned char* data;
      size_t len;
      if (napi_get_element(env, argv[0], i, &item) != napi_ok || !native_bytes_of(env, item, &data, &len)) {
        free(level);
        return native_throw_type(env, "items must be an array of Uint8Arrays");
      }
      leaf_hash(data, len, level + (size_t)i * 32);
    }
    // each level in place: node j of the next level is written over node j of this one, which is
    // never read again (it was one of the pair 2j, 2j+1, read before the write)
    for (uint32_t width = n; width > 1; width = (width + 1) / 2) {
      for (uint32_t j = 0; j < width / 2; j++) node_hash(level + (size_t)(2 * j) * 32, level + (size_t)(2 * j + 1) * 32, level + (size_t)j * 32);
      if (width % 2 == 1) memmove(level + (size_t)(width / 2) * 32, level + (size_t)(width - 1) * 32, 32);
    }
    memcpy(root, level, 32);
    free(level);
  }
  napi_value ab, out;
  void* p;
  if (napi_create_arraybuffer(env, 32, &p, &ab) != napi_ok || napi_create_typedarray(env, napi_uint8_array, 32, ab, 0, &out) != napi_ok) {
    napi_throw_error(env, NULL, "could not allocate the root");
    return NULL;
  }
  memcpy(p, root, 32);
  return out;
}

void native_register_merkle(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "merkleRoot", NAPI_AUTO_LENGTH, merkle_root, NULL, &f);
  napi_set_named_property(env, exports, "merkleRoot", f);
}
