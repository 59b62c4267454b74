// The tap network backend's native half: open a tap interface through /dev/net/tun (the TUNSETIFF ioctl, which
// Node cannot issue), read its frames on a thread of its own and hand them to JavaScript, write the guest's
// frames to it. Plain Node-API in C, so it builds with the C compiler and Node's headers alone (no node-gyp, no
// download); scripts/build-native.mjs builds it on install and src/node/net-tap.ts loads it.
//
// exports.open(ifname, onFrame) -> handle   throws an Error naming the errno
// exports.name(handle) -> string            the interface's name as the kernel knows it
// exports.send(handle, frame) -> boolean    false when the interface could not take the frame (dropped)
// exports.close(handle)                     stops the reader, closes the descriptor; idempotent
//
// The reader never blocks on JavaScript: frames go through a bounded thread-safe queue, and when it is full a
// frame is dropped, as a NIC drops on a full ring. close() can therefore always join the thread.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

// A tap carries Ethernet frames of at most the interface's MTU plus headers; read whatever the kernel gives.
#define MAX_FRAME 65536
// Frames waiting for the JavaScript thread before the reader starts dropping.
#define QUEUE_FRAMES 1024

typedef struct {
  int fd;
  int wake[2];  // the reader polls wake[0]; close() writes to wake[1]
  int running;
  pthread_t thread;
  napi_threadsafe_function tsfn;
  char name[IFNAMSIZ];
  unsigned long dropped;  // frames lost to a full queue; the reader adds, JavaScript reads (atomics)
} Tap;

typedef struct {
  size_t len;
  unsigned char bytes[];
} Frame;

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

// On the JavaScript thread: deliver one frame. env is NULL when the queue is being torn down.
static void call_js(napi_env env, napi_value cb, void* context, void* data) {
  (void)context;
  Frame* f = data;
  if (env != NULL && cb != NULL) {
    napi_value buf, undefined;
    if (napi_create_buffer_copy(env, f->len, f->bytes, NULL, &buf) == napi_ok &&
        napi_get_undefined(env, &undefined) == napi_ok) {
      napi_call_function(env, undefined, cb, 1, &buf, NULL);
    }
  }
  free(f);
}

static void* reader(void* arg) {
  Tap* t = arg;
  unsigned char* buf = malloc(MAX_FRAME);
  if (buf == NULL) return NULL;
  struct pollfd fds[2] = {{.fd = t->fd, .events = POLLIN}, {.fd = t->wake[0], .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents) break;
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) break;
    if (!(fds[0].revents & POLLIN)) continue;
    ssize_t n = read(t->fd, buf, MAX_FRAME);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (n == 0) continue;
    Frame* f = malloc(sizeof(Frame) + (size_t)n);
    if (f == NULL) {
      __atomic_fetch_add(&t->dropped, 1, __ATOMIC_RELAXED);
      continue;
    }
    f->len = (size_t)n;
    memcpy(f->bytes, buf, (size_t)n);
    if (napi_call_threadsafe_function(t->tsfn, f, napi_tsfn_nonblocking) != napi_ok) {
      free(f);
      __atomic_fetch_add(&t->dropped, 1, __ATOMIC_RELAXED);
    }
  }
  free(buf);
  return NULL;
}

static void stop(Tap* t) {
  if (!t->running) return;
  t->running = 0;
  char c = 1;
  ssize_t w;
  do w = write(t->wake[1], &c, 1); while (w < 0 && errno == EINTR);
  pthread_join(t->thread, NULL);
  napi_release_threadsafe_function(t->tsfn, napi_tsfn_abort);
  close(t->fd);
  close(t->wake[0]);
  close(t->wake[1]);
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Tap* t = data;
  stop(t);
  free(t);
}

// The call's arguments, the first of which must be a tap handle: returns it, or NULL with an exception pending.
static Tap* tap_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  void* p = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want ||
      napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a tap handle");
    return NULL;
  }
  return p;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "open(ifname, onFrame)");
    return NULL;
  }
  char name[IFNAMSIZ + 1];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok || len == 0 || len >= IFNAMSIZ) {
    napi_throw_type_error(env, NULL, "the interface name must be 1 to 15 characters");
    return NULL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return throw_errno(env, "opening /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    char what[64];
    snprintf(what, sizeof what, "TUNSETIFF %s", name);
    return throw_errno(env, what, err);
  }
  Tap* t = calloc(1, sizeof(Tap));
  if (t == NULL) {
    close(fd);
    return throw_errno(env, "allocating the tap", ENOMEM);
  }
  t->fd = fd;
  memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
  t->name[IFNAMSIZ - 1] = 0;
  if (pipe2(t->wake, O_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    free(t);
    return throw_errno(env, "pipe", err);
  }
  napi_value resource;
  napi_create_string_utf8(env, "wasmpc.tap", NAPI_AUTO_LENGTH, &resource);
  if (napi_create_threadsafe_function(env, argv[1], NULL, resource, QUEUE_FRAMES, 1, NULL, NULL, NULL, call_js,
                                      &t->tsfn) != napi_ok) {
    close(fd);
    close(t->wake[0]);
    close(t->wake[1]);
    free(t);
    napi_throw_error(env, NULL, "creating the frame queue failed");
    return NULL;
  }
  // The tap does not keep Node alive by itself; the machine using it does.
  napi_unref_threadsafe_function(env, t->tsfn);
  int err = pthread_create(&t->thread, NULL, reader, t);
  if (err != 0) {
    napi_release_threadsafe_function(t->tsfn, napi_tsfn_abort);
    close(fd);
    close(t->wake[0]);
    close(t->wake[1]);
    free(t);
    return throw_errno(env, "starting the reader thread", err);
  }
  t->running = 1;
  napi_value handle;
  if (napi_create_external(env, t, finalize, NULL, &handle) != napi_ok) {
    stop(t);
    free(t);
    napi_throw_error(env, NULL, "creating the tap handle failed");
    return NULL;
  }
  return handle;
}

static napi_value js_name(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Tap* t = tap_args(env, info, 1, argv);
  if (t == NULL) return NULL;
  napi_value s;
  napi_create_string_utf8(env, t->name, NAPI_AUTO_LENGTH, &s);
  return s;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Tap* t = tap_args(env, info, 2, argv);
  if (t == NULL) return NULL;
  void* data = NULL;
  size_t len = 0;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "send(handle, frame): frame must be a Uint8Array");
    return NULL;
  }
  int ok = 0;
  if (t->running) {
    ssize_t n;
    do n = write(t->fd, data, len); while (n < 0 && errno == EINTR);
    ok = n == (ssize_t)len;
  }
  napi_value r;
  napi_get_boolean(env, ok, &r);
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Tap* t = tap_args(env, info, 1, argv);
  if (t == NULL) return NULL;
  stop(t);
  return NULL;
}

static napi_value js_dropped(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Tap* t = tap_args(env, info, 1, argv);
  if (t == NULL) return NULL;
  napi_value r;
  napi_create_double(env, (double)__atomic_load_n(&t->dropped, __ATOMIC_RELAXED), &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"name", NULL, js_name, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dropped", NULL, js_dropped, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(tap, init)
