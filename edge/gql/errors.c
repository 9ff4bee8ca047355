/*  errors.c: error lists, source locations, and "did you mean" hints.
 *
 *  Every stage records errors here with byte offsets; only when the list
 *  is rendered (as GraphQL's "errors" JSON, or as lines for a schema
 *  error) are offsets turned into line and column, so the lexer and the
 *  validator never track lines themselves.
 */
#include "gql_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The width of one byte in a column: UTF-8 continuation bytes count 0,
//  lead bytes of characters outside the Basic Multilingual Plane 2 (two
//  UTF-16 code units), every other byte 1.
static inline uint32_t
s_width (unsigned char b)
{
    return (b & 0xC0) == 0x80 ? 0 : b >= 0xF0 ? 2 : 1;
}

#define S_BLOCK 64

//  Line starts, and the running column width at every S_BLOCK-th byte,
//  so that any offset's line and column cost a binary search and at most
//  two short scans, however long the line: documents written on one line
//  are common, and some have thousands of fields to locate.
static int
s_build_lines (gql_src_t *src, gql_arena_t *a)
{
    uint32_t count = 1;
    for (size_t i = 0; i < src->len; i++) {
        char c = src->text[i];
        if (c == '\n' || (c == '\r' && !(i + 1 < src->len && src->text[i + 1] == '\n')))
            count++;
    }
    uint32_t *lines = gql_alloc_array (a, count, sizeof *lines);
    uint32_t *widths = gql_alloc_array (a, src->len / S_BLOCK + 1, sizeof *widths);
    if (!lines || !widths)
        return -1;
    uint32_t n = 0, w = 0;
    lines[n++] = 0;
    for (size_t i = 0; i < src->len; i++) {
        if (i % S_BLOCK == 0)
            widths[i / S_BLOCK] = w;
        char c = src->text[i];
        w += s_width ((unsigned char) c);
        if (c == '\n' || (c == '\r' && !(i + 1 < src->len && src->text[i + 1] == '\n')))
            lines[n++] = (uint32_t) (i + 1);
    }
    if (src->len % S_BLOCK == 0)
        widths[src->len / S_BLOCK] = w;
    src->work += src->len;
    src->lines = lines;
    src->nlines = n;
    src->widths = widths;
    return 0;
}

//  The column width of the bytes before off, from the start of the text.
static uint32_t
s_width_to (gql_src_t *src, uint32_t off)
{
    uint32_t w = src->widths[off / S_BLOCK];
    for (uint32_t i = off - off % S_BLOCK; i < off; i++)
        w += s_width ((unsigned char) src->text[i]);
    src->work += off % S_BLOCK + 1;
    return w;
}

int
gql_src_pos (gql_src_t *src, gql_arena_t *a, uint32_t off, uint32_t *line, uint32_t *col)
{
    if (!src->lines && s_build_lines (src, a) != 0)
        return -1;
    if (off > src->len)
        off = (uint32_t) src->len;
    //  The last line whose start is at or before off.
    uint32_t lo = 0, hi = src->nlines;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (src->lines[mid] <= off)
            lo = mid;
        else
            hi = mid;
        src->work++;
    }
    *line = lo + 1;
    uint32_t start = src->lines[lo];
    if (off - start <= S_BLOCK) {
        //  Near the line's start, scanning from it is quicker.
        uint32_t c = 1;
        for (uint32_t i = start; i < off; i++)
            c += s_width ((unsigned char) src->text[i]);
        src->work += off - start + 1;
        *col = c;
    }
    else
        *col = 1 + s_width_to (src, off) - s_width_to (src, start);
    return 0;
}

void
gql_errs_init (gql_errs_t *e, gql_arena_t *a)
{
    memset (e, 0, sizeof *e);
    e->arena = a;
}

int
gql_errs_count (const gql_errs_t *e)
{
    return (int) e->list.n + (e->oom ? 1 : 0);
}

void
gql_errv (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, va_list ap)
{
    if (e->full)
        return;
    gql_err_t draft = { 0 };
    for (int i = 0; i < nlocs; i++) {
        if (locs[i] == GQL_NOLOC || draft.nlocs == GQL_ERR_MAXLOC)
            continue;
        int dup = 0;
        for (int j = 0; j < draft.nlocs; j++)
            dup |= draft.locs[j] == locs[i];
        if (!dup)
            draft.locs[draft.nlocs++] = locs[i];
    }
    //  The message is written aside first, and kept only if it is new: a
    //  document can make the same long message many times over.
    gql_arena_t scratch;
    gql_arena_init (&scratch, 256);
    draft.msg = gql_vsprintf (&scratch, fmt, ap);
    if (!draft.msg) {
        e->oom = 1;
        goto out;
    }
    e->work += strlen (draft.msg) / 64 + e->list.n;
    //  Different paths through fragments can find the same problem twice;
    //  report it once.
    //  (Locations first: they differ more often and cost less to compare
    //  than messages, which can quote long values.)
    for (uint32_t i = 0; i < e->list.n; i++) {
        const gql_err_t *o = e->list.items[i];
        if (o->nlocs == draft.nlocs
            && memcmp (o->locs, draft.locs, (size_t) draft.nlocs * sizeof draft.locs[0]) == 0
            && strcmp (o->msg, draft.msg) == 0)
            goto out;
    }
    gql_err_t *err = gql_alloc (e->arena, sizeof *err);
    if (!err || !(draft.msg = gql_strdup (e->arena, draft.msg))) {
        e->oom = 1;
        goto out;
    }
    *err = draft;
    if (e->list.n + 1 == GQL_MAX_ERRORS) {
        err->msg = "Too many validation errors, error limit reached. Validation aborted.";
        err->nlocs = 0;
        e->full = 1;
    }
    if (gql_vec_push (e->arena, &e->list, err) != 0)
        e->oom = 1;
out:
    gql_arena_free (&scratch);
}

void
gql_err (gql_errs_t *e, uint32_t loc, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    gql_errv (e, &loc, 1, fmt, ap);
    va_end (ap);
}

void
gql_errn (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    gql_errv (e, locs, nlocs, fmt, ap);
    va_end (ap);
}

void
gql_err2 (gql_errs_t *e, uint32_t loc1, uint32_t loc2, const char *fmt, ...)
{
    uint32_t locs[2] = { loc1, loc2 };
    va_list ap;
    va_start (ap, fmt);
    gql_errv (e, locs, 2, fmt, ap);
    va_end (ap);
}

char *
gql_errs_json (gql_errs_t *e, gql_src_t *src)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_putc (&b, '[');
    for (uint32_t i = 0; i < e->list.n; i++) {
        const gql_err_t *err = e->list.items[i];
        if (i)
            jbuf_putc (&b, ',');
        jbuf_puts (&b, "{\"message\":");
        jbuf_json_string (&b, err->msg, strlen (err->msg));
        if (err->nlocs) {
            jbuf_puts (&b, ",\"locations\":[");
            for (int j = 0; j < err->nlocs; j++) {
                uint32_t line = 0, col = 0;
                if (gql_src_pos (src, e->arena, err->locs[j], &line, &col) != 0)
                    b.failed = 1;
                char tmp[64];
                int n = snprintf (tmp, sizeof tmp, "%s{\"line\":%u,\"column\":%u}",
                                  j ? "," : "", line, col);
                jbuf_put (&b, tmp, (size_t) n);
            }
            jbuf_putc (&b, ']');
        }
        jbuf_putc (&b, '}');
    }
    if (e->oom) {
        if (e->list.n)
            jbuf_putc (&b, ',');
        jbuf_puts (&b, "{\"message\":\"Out of memory while preparing the operation.\"}");
    }
    jbuf_putc (&b, ']');
    char *out = jbuf_take (&b, NULL);
    jbuf_free (&b);
    return out;
}

char *
gql_errs_text (gql_errs_t *e, gql_src_t *src)
{
    jbuf_t b;
    jbuf_init (&b, 0);
    for (uint32_t i = 0; i < e->list.n; i++) {
        const gql_err_t *err = e->list.items[i];
        if (i)
            jbuf_putc (&b, '\n');
        if (err->nlocs) {
            uint32_t line = 0, col = 0;
            if (gql_src_pos (src, e->arena, err->locs[0], &line, &col) != 0)
                b.failed = 1;
            char tmp[64];
            int n = snprintf (tmp, sizeof tmp, "line %u, column %u: ", line, col);
            jbuf_put (&b, tmp, (size_t) n);
        }
        jbuf_puts (&b, err->msg);
    }
    if (e->oom)
        jbuf_puts (&b, e->list.n ? "\nout of memory" : "out of memory");
    char *out = jbuf_take (&b, NULL);
    jbuf_free (&b);
    return out;
}

//  Optimal string alignment distance (Levenshtein plus transpositions),
//  case-insensitive, bounded by max: returns max + 1 when farther.
static size_t
s_distance (const char *a, const char *b, size_t max)
{
    size_t la = strlen (a), lb = strlen (b);
    if (la > 64 || lb > 64)
        return max + 1;
    size_t diff = la > lb ? la - lb : lb - la;
    if (diff > max)
        return max + 1;
    size_t rows[3][65];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z') ca = (char) (ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z') cb = (char) (cb - 'A' + 'a');
            size_t cost = ca == cb ? 0 : 1;
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
            if (i > 1 && j > 1) {
                char pa = a[i - 2], pb = b[j - 2];
                if (pa >= 'A' && pa <= 'Z') pa = (char) (pa - 'A' + 'a');
                if (pb >= 'A' && pb <= 'Z') pb = (char) (pb - 'A' + 'a');
                if (ca == pb && pa == cb && prev2[j - 2] + 1 < v)
                    v = prev2[j - 2] + 1;
            }
            cur[j] = v;
            if (v < best)
                best = v;
        }
        if (best > max)
            return max + 1;
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *
gql_suggest (gql_arena_t *a, const char *name, const gql_vec_t *cands, size_t name_off)
{
    enum { MAX = 5 };
    const char *best[MAX];
    size_t dist[MAX];
    int n = 0;
    size_t limit = strlen (name) * 2 / 5 + 1;
    for (uint32_t i = 0; i < cands->n; i++) {
        const char *c = name_off == GQL_NAME_SELF ? (const char *) cands->items[i]
                       : *(const char *const *) ((const char *) cands->items[i] + name_off);
        if (strcmp (c, name) == 0)
            continue;
        size_t d = s_distance (name, c, limit);
        if (d > limit)
            continue;
        //  Keep the MAX nearest, ties broken by name, in order.
        int pos = n;
        while (pos > 0
               && (dist[pos - 1] > d || (dist[pos - 1] == d && strcmp (best[pos - 1], c) > 0)))
            pos--;
        if (pos >= MAX)
            continue;
        int last = n < MAX ? n : MAX - 1;
        for (int j = last; j > pos; j--) {
            best[j] = best[j - 1];
            dist[j] = dist[j - 1];
        }
        best[pos] = c;
        dist[pos] = d;
        if (n < MAX)
            n++;
    }
    if (n == 0)
        return "";
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, " Did you mean ");
    for (int i = 0; i < n; i++) {
        if (i)
            jbuf_puts (&b, n == 2 ? " or " : i == n - 1 ? ", or " : ", ");
        jbuf_putc (&b, '"');
        jbuf_puts (&b, best[i]);
        jbuf_putc (&b, '"');
    }
    jbuf_putc (&b, '?');
    const char *out = jbuf_failed (&b) ? "" : gql_strndup (a, b.data, b.len);
    jbuf_free (&b);
    return out ? out : "";
}
