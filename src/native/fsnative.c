/*
 * ctxdiff's native helpers: lstat/fstat (also of a name relative to a directory's descriptor) into a
 * Float64Array without a Stats object, and extended attributes listed and read with one system call each in
 * the common case. Optional: when this addon is not built, ctxdiff does the same through Node's fs and
 * @napi-rs/xattr (src/context/native.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

/* lstat(path, out: Float64Array) → 0, or -errno */
static napi_value js_lstat(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return type_error(env, "lstat(path, out)");
  char buf[1024], *heap;
  char *p = path_arg(env, argv[0], buf, sizeof buf, &heap);
  double *o = out_arg(env, argv[1]);
  if (!p || !o) {
    free(heap);
    return type_error(env, "lstat(path, out): a path and a Float64Array");
  }
  struct statx st;
  int r = do_statx(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, &st);
  int err = errno;
  free(heap);
  if (r != 0) return num(env, -err);
  put(o, &st);
  return num(env, 0);
}

/* fstat(fd, out: Float64Array) → 0, or -errno */
static napi_value js_fstat(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  double *o;
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !(o = out_arg(env, argv[1])))
    return type_error(env, "fstat(fd, out): a descriptor and a Float64Array");
  struct statx st;
  if (do_statx(fd, "", AT_EMPTY_PATH, &st) != 0) return num(env, -errno);
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

/* lstatat(dirfd, name, out: Float64Array) → 0, or -errno: lstat of a name in that directory (one path
 * component to look up, not the whole path). */
static napi_value js_lstatat(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t dfd;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &dfd) != napi_ok) return type_error(env, "lstatat(dirfd, name, out)");
  char buf[1024], *heap;
  char *p = path_arg(env, argv[1], buf, sizeof buf, &heap);
  double *o = out_arg(env, argv[2]);
  if (!p || !o) {
    free(heap);
    return type_error(env, "lstatat(dirfd, name, out): a name and a Float64Array");
  }
  struct statx st;
  int r = do_statx(dfd, p, AT_SYMLINK_NOFOLLOW, &st);
  int err = errno;
  free(heap);
  if (r != 0) return num(env, -err);
  put(o, &st);
  return num(env, 0);
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

/* Extended attribute names of a path (symlinks not followed) or an open descriptor: an array (empty when
 * there are none), or -errno. One call when the list fits SMALL bytes. */
static napi_value list_common(napi_env env, napi_value target, bool byfd) {
  char small[SMALL];
  char pbuf[1024], *heap = NULL, *p = NULL;
  int32_t fd = -1;
  if (byfd) {
    if (napi_get_value_int32(env, target, &fd) != napi_ok) return type_error(env, "a descriptor");
  } else if (!(p = path_arg(env, target, pbuf, sizeof pbuf, &heap))) {
    free(heap);
    return type_error(env, "a path");
  }
  ssize_t n = byfd ? flistxattr(fd, small, sizeof small) : llistxattr(p, small, sizeof small);
  char *big = NULL;
  while (n < 0 && errno == ERANGE) {
    ssize_t need = byfd ? flistxattr(fd, NULL, 0) : llistxattr(p, NULL, 0);
    if (need < 0) break;
    free(big);
    big = malloc((size_t)need + 1);
    if (!big) {
      errno = ENOMEM;
      break;
    }
    n = byfd ? flistxattr(fd, big, (size_t)need) : llistxattr(p, big, (size_t)need);
  }
  int err = errno;
  free(heap);
  napi_value r = n < 0 ? num(env, -err) : names(env, big ? big : small, n);
  free(big);
  return r;
}

/* An attribute's value: a Buffer, or -errno. */
static napi_value get_common(napi_env env, napi_value target, napi_value name, bool byfd) {
  char small[SMALL];
  char pbuf[1024], *heap = NULL, *p = NULL;
  char nbuf[256];
  size_t nlen;
  int32_t fd = -1;
  if (napi_get_value_string_utf8(env, name, nbuf, sizeof nbuf, &nlen) != napi_ok || nlen + 1 >= sizeof nbuf)
    return type_error(env, "an attribute name");
  if (byfd) {
    if (napi_get_value_int32(env, target, &fd) != napi_ok) return type_error(env, "a descriptor");
  } else if (!(p = path_arg(env, target, pbuf, sizeof pbuf, &heap))) {
    free(heap);
    return type_error(env, "a path");
  }
  ssize_t n = byfd ? fgetxattr(fd, nbuf, small, sizeof small) : lgetxattr(p, nbuf, small, sizeof small);
  char *big = NULL;
  while (n < 0 && errno == ERANGE) {
    ssize_t need = byfd ? fgetxattr(fd, nbuf, NULL, 0) : lgetxattr(p, nbuf, NULL, 0);
    if (need < 0) break;
    free(big);
    big = malloc((size_t)need + 1);
    if (!big) {
      errno = ENOMEM;
      break;
    }
    n = byfd ? fgetxattr(fd, nbuf, big, (size_t)need) : lgetxattr(p, nbuf, big, (size_t)need);
  }
  int err = errno;
  free(heap);
  napi_value r;
  if (n < 0) {
    r = num(env, -err);
  } else {
    void *copy;
    napi_create_buffer_copy(env, (size_t)n, big ? big : small, &copy, &r);
  }
  free(big);
  return r;
}

static napi_value js_llistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return type_error(env, "llistxattr(path)");
  return list_common(env, argv[0], false);
}

static napi_value js_flistxattr(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) return type_error(env, "flistxattr(fd)");
  return list_common(env, argv[0], true);
}

static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return type_error(env, "lgetxattr(path, name)");
  return get_common(env, argv[0], argv[1], false);
}

static napi_value js_fgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return type_error(env, "fgetxattr(fd, name)");
  return get_common(env, argv[0], argv[1], true);
}


NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    { "lstat", NULL, js_lstat, NULL, NULL, NULL, napi_enumerable, NULL },
    { "fstat", NULL, js_fstat, NULL, NULL, NULL, napi_enumerable, NULL },
    { "dirfd", NULL, js_dirfd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lstatat", NULL, js_lstatat, NULL, NULL, NULL, napi_enumerable, NULL },
    { "closefd", NULL, js_closefd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "llistxattr", NULL, js_llistxattr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "flistxattr", NULL, js_flistxattr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_enumerable, NULL },
    { "fgetxattr", NULL, js_fgetxattr, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
