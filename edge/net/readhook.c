/*  readhook.c: recv(2) and SSL_read(3) as libwebsockets calls them, with a
 *  look at the bytes. See readhook.h.
 *
 *  These definitions take the place of the C library's and OpenSSL's for
 *  the whole process (the executable is searched first), so each one finds
 *  the real function with dlsym (RTLD_NEXT) and calls it; what is not a
 *  watched WebSocket read in the loop's thread costs one comparison.
 */
#define _GNU_SOURCE             //  RTLD_NEXT
#include "readhook.h"
#include "wsframe.h"

#include <dlfcn.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct {
    void *owner;                //  NULL when the descriptor is not watched
    wsframe_t frames;
    int reported;
    uint64_t reads;             //  reads that returned bytes (any frame: pongs too)
} watch_t;

static pthread_t s_loop;
static int s_ready;
static watch_t *s_watch;        //  by descriptor
static size_t s_cap;
static void **s_unmasked;       //  owners to report
static size_t s_nunmasked, s_unmasked_cap;

typedef ssize_t (recv_fn) (int, void *, size_t, int);
typedef int (ssl_read_fn) (SSL *, void *, int);
static recv_fn *s_real_recv;
static ssl_read_fn *s_real_ssl_read;

//  Found before main, so that no two threads race to set them; a call
//  before then (from another library's constructor) looks them up itself.
__attribute__ ((constructor)) static void
s_find_real (void)
{
    s_real_recv = (recv_fn *) dlsym (RTLD_NEXT, "recv");
    s_real_ssl_read = (ssl_read_fn *) dlsym (RTLD_NEXT, "SSL_read");
}

void
readhook_init (void)
{
    s_loop = pthread_self ();
    s_ready = 1;
}

static watch_t *
s_get (int fd)
{
    if (!s_ready || fd < 0 || (size_t) fd >= s_cap || !pthread_equal (pthread_self (), s_loop))
        return NULL;
    return s_watch[fd].owner ? &s_watch[fd] : NULL;
}

void
readhook_watch (int fd, void *owner)
{
    if (fd < 0)
        return;
    if ((size_t) fd >= s_cap) {
        size_t cap = s_cap ? s_cap : 1024;
        while (cap <= (size_t) fd)
            cap *= 2;
        watch_t *w = realloc (s_watch, cap * sizeof *w);
        if (!w)
            return;                 //  unwatched: lws's own checks still apply
        memset (w + s_cap, 0, (cap - s_cap) * sizeof *w);
        s_watch = w;
        s_cap = cap;
    }
    memset (&s_watch[fd], 0, sizeof s_watch[fd]);
    wsframe_init (&s_watch[fd].frames);
    s_watch[fd].owner = owner;
}

void
readhook_unwatch (int fd)
{
    if (fd >= 0 && (size_t) fd < s_cap) {
        void *owner = s_watch[fd].owner;
        //  A report not yet taken would name a connection that is gone.
        for (size_t i = 0; owner && i < s_nunmasked; i++)
            if (s_unmasked[i] == owner)
                s_unmasked[i--] = s_unmasked[--s_nunmasked];
        memset (&s_watch[fd], 0, sizeof s_watch[fd]);
    }
}

int
readhook_unmasked (int fd)
{
    watch_t *w = s_get (fd);
    return w && w->frames.unmasked;
}

void *
readhook_next_unmasked (void)
{
    return s_nunmasked ? s_unmasked[--s_nunmasked] : NULL;
}

void
readhook_shutdown (void)
{
    free (s_watch);
    free (s_unmasked);
    s_watch = NULL;
    s_unmasked = NULL;
    s_cap = s_nunmasked = s_unmasked_cap = 0;
    s_ready = 0;
}

uint64_t
readhook_reads (int fd)
{
    watch_t *w = s_get (fd);
    return w ? w->reads : 0;
}

static void
s_seen (int fd, const void *data, ssize_t n)
{
    watch_t *w = n > 0 ? s_get (fd) : NULL;
    if (w)
        w->reads++;
    if (!w || !wsframe_feed (&w->frames, data, (size_t) n) || w->reported)
        return;
    w->reported = 1;
    if (s_nunmasked == s_unmasked_cap) {
        size_t cap = s_unmasked_cap ? s_unmasked_cap * 2 : 16;
        void **v = realloc (s_unmasked, cap * sizeof *v);
        if (!v)
            return;                 //  readhook_unmasked still says so
        s_unmasked = v;
        s_unmasked_cap = cap;
    }
    s_unmasked[s_nunmasked++] = w->owner;
}

ssize_t
recv (int fd, void *buf, size_t len, int flags)
{
    recv_fn *real = s_real_recv ? s_real_recv : (recv_fn *) dlsym (RTLD_NEXT, "recv");
    ssize_t n = real (fd, buf, len, flags);
    if (!(flags & MSG_PEEK))
        s_seen (fd, buf, n);
    return n;
}

int
SSL_read (SSL *ssl, void *buf, int num)
{
    ssl_read_fn *real = s_real_ssl_read ? s_real_ssl_read
                                        : (ssl_read_fn *) dlsym (RTLD_NEXT, "SSL_read");
    int n = real (ssl, buf, num);
    if (n > 0)
        s_seen (SSL_get_fd (ssl), buf, n);
    return n;
}
