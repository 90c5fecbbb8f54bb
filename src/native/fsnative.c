/*
 * ctxdiff's native helpers: lstat/fstat (also of a name relative to a directory's descriptor) into a
 * Float64Array without a Stats object, and extended attributes listed and read with one system call each in
 * the common case. Optional: when this addon is not built, ctxdiff does the same through Node's fs and
 * @napi-rs/xattr (src/context/native.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <node_api.h>

/* Fields written by lstat/fstat, in this order (native.ts reads them by these indexes). */
enum { F_MODE, F_UID, F_GID, F_SIZE, F_MSEC, F_MNSEC, F_CSEC, F_CNSEC, F_INO, F_DEV, F_RMAJOR, F_RMINOR, F_COUNT };

#define SMALL 4096

static napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

/* A path argument: a string or a Buffer (bytes that are not UTF-8), NUL-terminated into `buf` or a malloc'ed
 * copy (*heap, to free). NULL when it is neither or holds a NUL. */
static char *path_arg(napi_env env, napi_value v, char *buf, size_t cap, char **heap) {
  napi_valuetype t;
  *heap = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) return NULL;
  if (t == napi_string) {
    size_t len;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
    char *p = buf;
    if (len + 1 > cap) p = *heap = malloc(len + 1);
    if (!p) return NULL;
    napi_get_value_string_utf8(env, v, p, len + 1, &len);
    if (strlen(p) != len) return NULL;
    return p;
  }
  bool isbuf = false;
  napi_is_buffer(env, v, &isbuf);
  if (!isbuf) return NULL;
  void *data;
  size_t len;
  napi_get_buffer_info(env, v, &data, &len);
  char *p = buf;
  if (len + 1 > cap) p = *heap = malloc(len + 1);
  if (!p) return NULL;
  memcpy(p, data, len);
  p[len] = 0;
  if (memchr(data, 0, len)) return NULL;
  return p;
}

static double *out_arg(napi_env env, napi_value v) {
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, &len, &data, NULL, NULL) != napi_ok) return NULL;
  if (t != napi_float64_array || len < F_COUNT) return NULL;
  return data;
}

/* statx(2) by system call, as libuv (Node's fs) does: glibc's stat wrappers are versioned GLIBC_2.33, and an
 * addon that needs them would not load on the older C libraries Node 20 still runs on. */
static int do_statx(int dfd, const char *path, int flags, struct statx *stx) {
  return (int)syscall(SYS_statx, dfd, path, flags, STATX_BASIC_STATS, stx);
}

static void put(double *o, const struct statx *st) {
  o[F_MODE] = st->stx_mode;
  o[F_UID] = st->stx_uid;
  o[F_GID] = st->stx_gid;
  o[F_SIZE] = (double)st->stx_size;
  o[F_MSEC] = (double)st->stx_mtime.tv_sec;
  o[F_MNSEC] = (double)st->stx_mtime.tv_nsec;
  o[F_CSEC] = (double)st->stx_ctime.tv_sec;
  o[F_CNSEC] = (double)st->stx_ctime.tv_nsec;
  o[F_INO] = (double)st->stx_ino;
  o[F_DEV] = (double)makedev(st->stx_dev_major, st->stx_dev_minor);
  o[F_RMAJOR] = st->stx_rdev_major;
  o[F_RMINOR] = st->stx_rdev_minor;
}

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* A call's arguments (at most *argc, the count given back) and the operation its property is bound to. */
static intptr_t call_args(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data;
  napi_get_cb_info(env, info, argc, argv, NULL, &data);
  return (intptr_t)data;
}

/* What js_stat does, by the property it is bound to (its data). */
enum stat_op { S_LSTAT, S_LSTATAT, S_FSTAT };

/* lstat(path, out), lstatat(dirfd, name, out) (a name in that directory: one path component to look up, not
 * the whole path) and fstat(fd, out): the raw stat into `out` (a Float64Array, F_* layout) and 0, or -errno. */
static napi_value js_stat(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  const enum stat_op op = (enum stat_op)call_args(env, info, &argc, argv);
  const size_t want = op == S_LSTATAT ? 3 : 2;
  int32_t fd = AT_FDCWD;
  if (argc < want || (op != S_LSTAT && napi_get_value_int32(env, argv[0], &fd) != napi_ok))
    return type_error(env, "(path, out), (dirfd, name, out) or (fd, out)");
  double *o = out_arg(env, argv[want - 1]);
  char buf[1024], *heap = NULL, *p = "";
  if (op != S_FSTAT) p = path_arg(env, argv[want - 2], buf, sizeof buf, &heap);
  if (!p || !o) {
    free(heap);
    return type_error(env, "a path and a Float64Array");
  }
  struct statx st;
  int r = do_statx(fd, p, op == S_FSTAT ? AT_EMPTY_PATH : AT_SYMLINK_NOFOLLOW, &st);
  int err = errno;
  free(heap);
  if (r != 0) return num(env, -err);
  put(o, &st);
  return num(env, 0);
}

/* dirfd(path) → a descriptor of the directory at path (O_PATH: for lstatat only), or -errno */
static napi_value js_dirfd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return type_error(env, "dirfd(path)");
  char buf[1024], *heap;
  char *p = path_arg(env, argv[0], buf, sizeof buf, &heap);
  if (!p) {
    free(heap);
    return type_error(env, "dirfd(path): a path");
  }
  int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int err = errno;
  free(heap);
  return num(env, fd < 0 ? -err : fd);
}

/* closefd(fd) → 0, or -errno: closes a descriptor dirfd opened (Node's fs.close warns of one it did not open). */
static napi_value js_closefd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) return type_error(env, "closefd(fd)");
  return num(env, close(fd) != 0 ? -errno : 0);
}

/* The NUL-separated names in list[0..len) as an array of strings. */
static napi_value names(napi_env env, const char *list, ssize_t len) {
  napi_value arr;
  napi_create_array(env, &arr);
  uint32_t k = 0;
  for (ssize_t i = 0; i < len;) {
    size_t n = strnlen(list + i, (size_t)(len - i));
    napi_value s;
    napi_create_string_utf8(env, list + i, n, &s);
    napi_set_element(env, arr, k++, s);
    i += (ssize_t)n + 1;
  }
  return arr;
}

/* What js_xattr does, by the property it is bound to (its data). */
enum xattr_op { X_LLIST, X_FLIST, X_LGET, X_FGET };

/* One xattr system call: list (name NULL) or get `name`, of path `p` or descriptor `fd`. */
static ssize_t xattr_call(int fd, const char *p, const char *name, char *buf, size_t size) {
  if (name) return p ? lgetxattr(p, name, buf, size) : fgetxattr(fd, name, buf, size);
  return p ? llistxattr(p, buf, size) : flistxattr(fd, buf, size);
}

/* xattr_call into `small` (one call when the answer fits), else into a buffer of the size the system gives,
 * *big, to free: the length, or -1 with errno. */
static ssize_t xattr_read(int fd, const char *p, const char *name, char *small, size_t cap, char **big) {
  ssize_t n = xattr_call(fd, p, name, small, cap);
  while (n < 0 && errno == ERANGE) {
    ssize_t need = xattr_call(fd, p, name, NULL, 0);
    if (need < 0) break;
    free(*big);
    if (!(*big = malloc((size_t)need + 1))) {
      errno = ENOMEM;
      return -1;
    }
    n = xattr_call(fd, p, name, *big, (size_t)need);
  }
  return n;
}

/* llistxattr(path) / flistxattr(fd): the attribute names (symlinks not followed), an array (empty when there
 * are none), or -errno. lgetxattr(path, name) / fgetxattr(fd, name): the value, a Buffer, or -errno. */
static napi_value js_xattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const enum xattr_op op = (enum xattr_op)call_args(env, info, &argc, argv);
  const bool byfd = op == X_FLIST || op == X_FGET;
  const bool get = op == X_LGET || op == X_FGET;
  if (argc < (get ? 2u : 1u)) return type_error(env, get ? "(target, name)" : "(target)");
  char nbuf[256];
  size_t nlen;
  if (get && (napi_get_value_string_utf8(env, argv[1], nbuf, sizeof nbuf, &nlen) != napi_ok || nlen + 1 >= sizeof nbuf))
    return type_error(env, "an attribute name");
  char pbuf[1024], *heap = NULL, *p = NULL;
  int32_t fd = -1;
  if (byfd) {
    if (napi_get_value_int32(env, argv[0], &fd) != napi_ok) return type_error(env, "a descriptor");
  } else if (!(p = path_arg(env, argv[0], pbuf, sizeof pbuf, &heap))) {
    free(heap);
    return type_error(env, "a path");
  }
  char small[SMALL], *big = NULL;
  ssize_t n = xattr_read(fd, p, get ? nbuf : NULL, small, sizeof small, &big);
  int err = errno;
  free(heap);
  napi_value r;
  if (n < 0) {
    r = num(env, -err);
  } else if (get) {
    void *copy;
    napi_create_buffer_copy(env, (size_t)n, big ? big : small, &copy, &r);
  } else {
    r = names(env, big ? big : small, n);
  }
  free(big);
  return r;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "lstat", NULL, js_stat, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)S_LSTAT },
    { "fstat", NULL, js_stat, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)S_FSTAT },
    { "dirfd", NULL, js_dirfd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lstatat", NULL, js_stat, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)S_LSTATAT },
    { "closefd", NULL, js_closefd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "llistxattr", NULL, js_xattr, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)X_LLIST },
    { "flistxattr", NULL, js_xattr, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)X_FLIST },
    { "lgetxattr", NULL, js_xattr, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)X_LGET },
    { "fgetxattr", NULL, js_xattr, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)X_FGET },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
