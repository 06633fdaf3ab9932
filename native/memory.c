/*
 * cairn_memory: the two memory calls Node does not offer (services/node/memory/native.ts).
 *
 * releaseRange(start, length): madvise(MADV_DONTNEED) over [start, start + length). Used on LMDB's
 * read-only, shared map of data.mdb: the pages leave this process's page tables (and its RSS) but
 * stay in the kernel's page cache, so the next read of one is a minor fault, not disk I/O. Nothing
 * is lost: a shared file mapping's pages are the file's, and LMDB (without MDB_WRITEMAP) never
 * writes through the map. Returns 0 or the errno.
 *
 * trimHeap(): glibc's malloc_trim(0): gives the free memory at the top of and inside the malloc
 * arenas back to the kernel (LMDB's dirty pages and ZeroMQ's buffers are malloc'd). Returns true
 * when something was released; false also where it does not exist (not glibc).
 *
 * mallocInfo(): glibc's malloc_info(0) XML (per arena: in use, free, mmapped), the text Bitcoin
 * Core's `getmemoryinfo "mallocinfo"` returns; null where it does not exist.
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static bool read_u64(napi_env env, napi_value v, uint64_t *out) {
  bool lossless = false;
  if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a non-negative bigint below 2^64");
    return false;
  }
  return true;
}

static napi_value release_range(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "releaseRange(start, length)");
    return NULL;
  }
  uint64_t start = 0, length = 0;
  if (!read_u64(env, argv[0], &start) || !read_u64(env, argv[1], &length)) return NULL;
  int rc = madvise((void *)(uintptr_t)start, (size_t)length, MADV_DONTNEED);
  napi_value out;
  napi_create_int32(env, rc == 0 ? 0 : errno, &out);
  return out;
}

static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_value out;
  napi_get_boolean(env, released, &out);
  return out;
}

static napi_value malloc_info_xml(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_null(env, &out);
#ifdef __GLIBC__
  char *text = NULL;
  size_t length = 0;
  FILE *f = open_memstream(&text, &length);
  if (f == NULL) return out;
  int rc = malloc_info(0, f);
  fclose(f);
  if (rc == 0 && text != NULL) napi_create_string_utf8(env, text, length, &out);
  free(text);
#endif
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "releaseRange", NAPI_AUTO_LENGTH, release_range, NULL, &fn);
  napi_set_named_property(env, exports, "releaseRange", fn);
  napi_create_function(env, "trimHeap", NAPI_AUTO_LENGTH, trim_heap, NULL, &fn);
  napi_set_named_property(env, exports, "trimHeap", fn);
  napi_create_function(env, "mallocInfo", NAPI_AUTO_LENGTH, malloc_info_xml, NULL, &fn);
  napi_set_named_property(env, exports, "mallocInfo", fn);
  return exports;
}
