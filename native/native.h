// Shared by the addon's sources (native/*.c): argument helpers and each source's registration.
#ifndef IOTCHAIN_NATIVE_H
#define IOTCHAIN_NATIVE_H
#include <stddef.h>
#include <node_api.h>

// Throws a TypeError with `msg`; returns NULL for the callback to return.
napi_value native_throw_type(napi_env env, const char* msg);
// The bytes of a Uint8Array argument, or 0 if it is not one (nothing thrown).
int native_bytes_of(napi_env env, napi_value v, const unsigned char** data, size_t* len);

void native_register_p256(napi_env env, napi_value exports);
void native_register_merkle(napi_env env, napi_value exports);
#endif
