// P-256 ECDSA verification through OpenSSL's ECDSA_do_verify, for crypto/sign.ts.
//
// Why: node:crypto's verify sets up a digest and signature context per call (OpenSSL 3's EVP
// layer) and converts r||s to DER; calling the EC layer directly with a parsed key kept across
// calls costs ~9 % less validator CPU per transaction in the 4-validator benchmark
// (BENCHMARKS.md, session 10). No cryptography is implemented here: SHA-256, point decoding and
// ECDSA verification are OpenSSL's (the copy linked into Node, whose symbols addons resolve).
//
// importKey(pub: Uint8Array) -> key | null   33-byte compressed point; null if not on the curve
// verify(key, msg: Uint8Array, sig: Uint8Array) -> boolean   SHA-256(msg), sig = 64-byte r||s
// Any argument of the wrong kind or length throws a TypeError. crypto/sign.ts range-checks r and
// s (and low-s) before calling verify.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include "native.h"

static const napi_type_tag KEY_TAG = {0x696f74636861696eULL, 0x7032353676657269ULL};

static void free_key(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  EC_KEY_free((EC_KEY*)data);
}

static napi_value import_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) return native_throw_type(env, "importKey(publicKey)");
  const unsigned char* pub;
  size_t len;
  if (!native_bytes_of(env, argv[0], &pub, &len) || len != 33) return native_throw_type(env, "publicKey must be a 33-byte Uint8Array");
  napi_value out;
  EC_KEY* key = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  if (key == NULL) {
    napi_throw_error(env, NULL, "EC_KEY_new_by_curve_name failed");
    return NULL;
  }
  const unsigned char* p = pub;
  // o2i_ECPublicKey decodes the point and checks that it is on the curve
  if (o2i_ECPublicKey(&key, &p, (long)len) == NULL || EC_KEY_check_key(key) != 1) {
    EC_KEY_free(key);
    napi_get_null(env, &out);
    return out;
  }
  if (napi_create_external(env, key, free_key, NULL, &out) != napi_ok || napi_type_tag_object(env, out, &KEY_TAG) != napi_ok) {
    EC_KEY_free(key);
    napi_throw_error(env, NULL, "could not wrap the key");
    return NULL;
  }
  return out;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return native_throw_type(env, "verify(key, message, signature)");
  bool tagged = false;
  EC_KEY* key = NULL;
  if (napi_check_object_type_tag(env, argv[0], &KEY_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], (void**)&key) != napi_ok || key == NULL) {
    return native_throw_type(env, "key must come from importKey");
  }
  const unsigned char *msg, *sig;
  size_t msg_len, sig_len;
  if (!native_bytes_of(env, argv[1], &msg, &msg_len)) return native_throw_type(env, "message must be a Uint8Array");
  if (!native_bytes_of(env, argv[2], &sig, &sig_len) || sig_len != 64) return native_throw_type(env, "signature must be a 64-byte Uint8Array");
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(msg, msg_len, digest);
  int ok = 0;
  ECDSA_SIG* s = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(sig, 32, NULL);
  BIGNUM* ss = BN_bin2bn(sig + 32, 32, NULL);
  if (s != NULL && r != NULL && ss != NULL && ECDSA_SIG_set0(s, r, ss) == 1) {
    r = ss = NULL; // owned by s now
    ok = ECDSA_do_verify(digest, (int)sizeof digest, s, key) == 1;
  }
  BN_free(r);
  BN_free(ss);
  ECDSA_SIG_free(s);
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

void native_register_p256(napi_env env, napi_value exports) {
  napi_value f;
  napi_create_function(env, "importKey", NAPI_AUTO_LENGTH, import_key, NULL, &f);
  napi_set_named_property(env, exports, "importKey", f);
  napi_create_function(env, "verify", NAPI_AUTO_LENGTH, verify, NULL, &f);
  napi_set_named_property(env, exports, "verify", f);
}
