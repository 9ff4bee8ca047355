/*  gql_base.h: what every stage of the engine builds on: its limits, the
 *  arena and its containers (arena.c), and sources, locations and error
 *  lists (errors.c).
 *
 *  Memory: everything built while preparing lives in an arena and is freed
 *  at once; a schema and a prepared subscription each own one arena.
 *  Locations are byte offsets into the source (uint32_t), turned into
 *  line/column only when an error is rendered.
 */
#ifndef HERALD_GQL_BASE_H
#define HERALD_GQL_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "gql.h"

/*  Nesting cap for the parser (selection sets, values, list types) and the
 *  value coercers. Deep enough for any real document, shallow enough that
 *  recursion over it is safe on any thread stack. */
#define GQL_MAX_NESTING 128
/*  Cap on the fields of an expanded plan (after fragments), so a
 *  "fragment bomb" fails at prepare time instead of rendering gigabytes. */
#define GQL_MAX_PLAN_FIELDS 10000
/*  Cap on the work of the field-merging check, in field comparisons. */
#define GQL_MAX_MERGE_WORK 2000000
/*  Errors reported by one prepare; past this, validation stops. */
#define GQL_MAX_ERRORS 100
/*  An arena never grows beyond this (a document or schema that needs more
 *  is refused as too large). */
#define GQL_ARENA_LIMIT ((size_t) 256 << 20)

#define GQL_NOLOC UINT32_MAX

#ifdef __GNUC__
#   define GQL_PRINTF(f, a) __attribute__ ((format (printf, f, a)))
#else
#   define GQL_PRINTF(f, a)
#endif

/*  arena.c: bump allocator, growable pointer vectors, name maps */

typedef struct gql_chunk gql_chunk_t;
typedef struct {
    gql_chunk_t *head;
    size_t total;               //  bytes held in chunks
    size_t next_size;           //  size of the next ordinary chunk
} gql_arena_t;

void gql_arena_init (gql_arena_t *a, size_t first_chunk);
void gql_arena_free (gql_arena_t *a);
/*  A point to go back to: gql_arena_release frees everything allocated
 *  since gql_arena_mark (which must be released in the reverse order of
 *  marking), for work that builds and drops scratch data level by level. */
typedef struct {
    gql_chunk_t *head;
    gql_chunk_t *next;
    size_t used;
} gql_arena_mark_t;

gql_arena_mark_t gql_arena_mark (const gql_arena_t *a);
void gql_arena_release (gql_arena_t *a, gql_arena_mark_t m);
/*  Zeroed memory aligned for any type, or NULL (out of memory or past
 *  GQL_ARENA_LIMIT). */
void *gql_alloc (gql_arena_t *a, size_t size);
/*  As gql_alloc for n elements of size bytes, with the product checked. */
void *gql_alloc_array (gql_arena_t *a, size_t n, size_t size);
/*  A NUL-terminated copy of n bytes. */
char *gql_strndup (gql_arena_t *a, const char *s, size_t n);
char *gql_strdup (gql_arena_t *a, const char *s);
/*  printf into the arena. */
char *gql_sprintf (gql_arena_t *a, const char *fmt, ...) GQL_PRINTF (2, 3);
char *gql_vsprintf (gql_arena_t *a, const char *fmt, va_list ap);

typedef struct {
    void **items;
    uint32_t n;
    uint32_t cap;
} gql_vec_t;

/*  Append; returns 0, or -1 when memory runs out. */
int gql_vec_push (gql_arena_t *a, gql_vec_t *v, void *item);

/*  String -> pointer map with open addressing. Keys are not copied. */
typedef struct {
    const char *key;
    size_t len;
    void *val;
} gql_map_slot_t;

typedef struct {
    gql_map_slot_t *slots;
    uint32_t cap;               //  0 or a power of two
    uint32_t n;
} gql_map_t;

void *gql_map_get (const gql_map_t *m, const char *key, size_t len);
/*  Insert key unless present. Returns 1 if inserted, 0 if the key was
 *  already there (*old, if given, gets its value), -1 on memory failure. */
int gql_map_put (gql_arena_t *a, gql_map_t *m, const char *key, size_t len,
                 void *val, void **old);

/*  Vectors of named things (arguments, directives, variables, input
 *  fields) are searched by name. Up to GQL_SCAN_MAX items a scan is
 *  cheapest; past that a name index (a map from each name to the first
 *  item of that name) keeps the search from growing with the vector. */
#define GQL_SCAN_MAX 8

typedef struct {
    const gql_vec_t *v;
    size_t name_off;            //  offset of the const char * name in each item
    gql_map_t map;              //  built only for vectors past GQL_SCAN_MAX
    int oom;
} gql_names_t;

/*  Prepare to search v (items are pointers to structs with a const char *
 *  name at name_off). The index, when needed, is built in a. */
void gql_names_init (gql_names_t *x, gql_arena_t *a, const gql_vec_t *v, size_t name_off,
                     uint64_t *steps);
/*  The first item named name, or NULL. *steps counts the work. */
void *gql_names_find (const gql_names_t *x, const char *name, uint64_t *steps);

/*  errors.c: sources, locations and error lists */

typedef struct {
    const char *text;
    size_t len;
    uint32_t *lines;            //  offset of each line's first byte
    uint32_t nlines;
    uint32_t *widths;           //  column width of the text before each 64-byte block
    uint64_t work;              //  steps spent locating (see gql_errs_t.work)
} gql_src_t;

/*  Line and column (both from 1) of a byte offset. Lines end at LF, CR
 *  or CRLF. Columns count UTF-16 code units, as graphql-js does, so that
 *  a JavaScript client's editor points at the same place: each character
 *  counts 1, except characters outside the Basic Multilingual Plane, which
 *  count 2. Returns -1 only when memory runs out. */
int gql_src_pos (gql_src_t *src, gql_arena_t *a, uint32_t off, uint32_t *line, uint32_t *col);

#define GQL_ERR_MAXLOC 4

typedef struct {
    char *msg;
    uint32_t locs[GQL_ERR_MAXLOC];
    int nlocs;
} gql_err_t;

typedef struct {
    gql_arena_t *arena;
    gql_vec_t list;             //  gql_err_t *
    int full;                   //  GQL_MAX_ERRORS reached
    int oom;                    //  an allocation failed somewhere
    /*  Steps of work done while preparing: one per item a loop visits, per
     *  name compared or looked up, per byte scanned to locate. Nothing
     *  depends on it; tests read it (gql_prepare_counted) to show that the
     *  work grows linearly with the document, which no clock can show
     *  reliably. */
    uint64_t work;
} gql_errs_t;

#define GQL_WORK(e, n) ((e)->work += (uint64_t) (n))

void gql_errs_init (gql_errs_t *e, gql_arena_t *a);
/*  Record an error with up to GQL_ERR_MAXLOC locations (GQL_NOLOC ones are
 *  skipped). Identical errors (message and locations) are kept once. */
void gql_err (gql_errs_t *e, uint32_t loc, const char *fmt, ...) GQL_PRINTF (3, 4);
void gql_err2 (gql_errs_t *e, uint32_t loc1, uint32_t loc2, const char *fmt, ...) GQL_PRINTF (4, 5);
void gql_errn (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, ...)
    GQL_PRINTF (4, 5);
void gql_errv (gql_errs_t *e, const uint32_t *locs, int nlocs, const char *fmt, va_list ap);
int gql_errs_count (const gql_errs_t *e);
/*  The errors as a GraphQL "errors" JSON array, malloc'ed; NULL if memory
 *  ran out. */
char *gql_errs_json (gql_errs_t *e, gql_src_t *src);
/*  The errors as "line L, column C: message" lines, malloc'ed. */
char *gql_errs_text (gql_errs_t *e, gql_src_t *src);

/*  A " Did you mean \"a\", \"b\", or \"c\"?" suffix for an unknown name,
 *  or "" when no candidate is close. candidates holds pointers to structs
 *  with a const char * name member at offset name_off, or (name_off ==
 *  GQL_NAME_SELF) the names themselves. */
#define GQL_NAME_SELF SIZE_MAX
const char *gql_suggest (gql_arena_t *a, const char *name, const gql_vec_t *candidates,
                         size_t name_off);

#endif
