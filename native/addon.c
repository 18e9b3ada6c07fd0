// The iotchain addon's entry point: the helpers of native.h and the module's exports
// (p256verify.c: importKey, verify; merkle.c: merkleRoot).
#include "native.h"

napi_value native_throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

int native_bytes_of(napi_env env, napi_value v, const unsigned char** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = p;
  return 1;
}

NAPI_MODULE_INIT() {
  native_register_p256(env, exports);
  native_register_merkle(env, exports);
  return exports;
}
