/*  wsmsg.c: WebSocket message reassembly within a limit. See wsmsg.h.
 */
#include "wsmsg.h"

#include <stdlib.h>
#include <string.h>

//  Makes room for n more bytes. Returns 0, or -1 if memory ran out.
static int
s_grow (wsmsg_t *m, size_t n)
{
    if (m->len + n <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap : 1024;
    while (cap < m->len + n)
        cap *= 2;
    char *data = realloc (m->data, cap);
    if (!data)
        return -1;
    m->data = data;
    m->cap = cap;
    return 0;
}

wsmsg_rc_t
wsmsg_add (wsmsg_t *m, const char *in, size_t len, int first, int last, int binary,
           const char **msg, size_t *msg_len)
{
    if (first) {
        m->len = 0;
        m->refused = 0;
        m->binary = binary;
    }
    if (m->refused)
        return WSMSG_DROPPED;
    if (first && last) {
        if (len > m->max)
            return WSMSG_TOO_BIG;
        *msg = in;
        *msg_len = len;
        return WSMSG_DONE;
    }
    //  m->len never exceeds m->max, so the subtraction cannot wrap.
    if (len > m->max - m->len) {
        m->refused = 1;
        return WSMSG_TOO_BIG;
    }
    if (s_grow (m, len) != 0)
        return WSMSG_NOMEM;
    if (len)
        memcpy (m->data + m->len, in, len);
    m->len += len;
    if (!last)
        return WSMSG_MORE;
    *msg = m->data ? m->data : "";
    *msg_len = m->len;
    return WSMSG_DONE;
}

void
wsmsg_release (wsmsg_t *m)
{
    free (m->data);
    m->data = NULL;
    m->len = m->cap = 0;
}
