/*  plan.c: from a validated subscription operation and its variables to
 *  what execute.c needs and nothing more: the plan, the topic and the key.
 *
 *  The plan is CollectFields (spec 6.3.2) done ahead of time: fragments
 *  expanded, @skip/@include decided with the coerced variables, fields of
 *  the same response key merged, and for every abstract type one field
 *  list per possible object type. Every name, type and location execution
 *  needs is copied or pointed to, so executing does no lookups in the
 *  schema. The plan is built in the subscription's arena; the document is
 *  not kept.
 *
 *  The key is a serialisation of the plan (response keys, field names,
 *  types, type names, error locations): two plans with equal keys render
 *  every payload the same way.
 */
#include "gql_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    gql_arena_t *a;             //  the subscription's arena
    gql_arena_t *tmp;
    const gql_schema_t *s;
    const gql_vars_t *vars;
    const json_t *claims;       //  of the client's token, or NULL
    gql_errs_t *e;
    gql_src_t *src;
    int max_depth;
    uint32_t nfields;
    uint32_t *frag_stamp;
    uint32_t nfrags;
    uint32_t stamp;
    int failed;
} s_plan_t;

typedef struct {
    const char *key;
    gql_vec_t nodes;            //  gql_sel_t * fields with this response key
} s_group_t;

static void
s_oom (s_plan_t *p)
{
    p->e->oom = 1;
    p->failed = 1;
}

//  @skip and @include, decided (spec 6.3.2 steps on directives).
static int
s_included (s_plan_t *p, const gql_sel_t *sel)
{
    for (uint32_t i = 0; i < sel->directives.n; i++) {
        const gql_directive_t *d = sel->directives.items[i];
        const gql_dirdef_t *def = NULL;
        if (strcmp (d->name, "skip") == 0)
            def = p->s->d_skip;
        else if (strcmp (d->name, "include") == 0)
            def = p->s->d_include;
        else
            continue;
        const gql_cval_t *val[1] = { NULL };
        if (gql_coerce_args (p->tmp, p->e, &d->args, &def->args, p->vars, d->loc,
                             "Directive \"@skip\"", val)
                != 0
            || !val[0] || val[0]->kind != GQL_C_BOOLEAN) {
            p->failed = 1;
            return 0;
        }
        if (def == p->s->d_skip && val[0]->i)
            return 0;
        if (def == p->s->d_include && !val[0]->i)
            return 0;
    }
    return 1;
}

static void
s_collect (s_plan_t *p, const gql_type_t *obj, const gql_selset_t *ss, gql_vec_t *groups,
           gql_map_t *map, int depth)
{
    if (!ss || p->failed)
        return;
    if (depth > GQL_MAX_NESTING) {
        gql_err (p->e, ss->loc, "Fragments are nested too deeply (more than %d levels).",
                 GQL_MAX_NESTING);
        p->failed = 1;
        return;
    }
    GQL_WORK (p->e, ss->items.n);
    for (uint32_t i = 0; i < ss->items.n && !p->failed; i++) {
        gql_sel_t *sel = ss->items.items[i];
        GQL_WORK (p->e, sel->directives.n);
        if (!s_included (p, sel))
            continue;
        switch (sel->kind) {
            case GQL_SEL_FIELD: {
                const char *key = sel->alias ? sel->alias : sel->name;
                s_group_t *g = gql_map_get (map, key, strlen (key));
                if (!g) {
                    if (!(g = gql_alloc (p->tmp, sizeof *g))
                        || gql_map_put (p->tmp, map, key, strlen (key), g, NULL) < 0
                        || gql_vec_push (p->tmp, groups, g) != 0)
                        return s_oom (p);
                    g->key = key;
                }
                if (gql_vec_push (p->tmp, &g->nodes, sel) != 0)
                    return s_oom (p);
                break;
            }
            case GQL_SEL_SPREAD: {
                gql_fragment_t *f = sel->frag;
                if (!f || f->index >= p->nfrags || p->frag_stamp[f->index] == p->stamp)
                    break;
                p->frag_stamp[f->index] = p->stamp;
                if (f->type && gql_type_possible (f->type, obj))
                    s_collect (p, obj, f->selset, groups, map, depth + 1);
                break;
            }
            case GQL_SEL_INLINE:
                if (!sel->cond || gql_type_possible (sel->cond, obj))
                    s_collect (p, obj, sel->selset, groups, map, depth + 1);
                break;
        }
    }
}

static const gql_ptype_t *s_ptype (s_plan_t *p, const gql_tref_t *t, const s_group_t *g, int depth);

//  The i-th field of object type obj, at depth, from the group of fields
//  with one response key. Returns 0, or -1 (errors recorded).
static int
s_pfield (s_plan_t *p, const gql_type_t *obj, const s_group_t *g, uint32_t i, gql_pfield_t *f,
          int depth)
{
    const gql_sel_t *first = g->nodes.items[0];
    if (depth + 1 > p->max_depth) {
        gql_err (p->e, first->loc,
                 "The subscription is nested too deeply: field \"%s\" is at depth %d, and the "
                 "limit is %d.",
                 g->key, depth + 1, p->max_depth);
        p->failed = 1;
        return -1;
    }
    if (++p->nfields > GQL_MAX_PLAN_FIELDS) {
        gql_err (p->e, first->loc,
                 "The subscription selects too many fields once its fragments are expanded (more "
                 "than %d).",
                 GQL_MAX_PLAN_FIELDS);
        p->failed = 1;
        return -1;
    }
    size_t klen = strlen (g->key);
    char *prefix = gql_sprintf (p->a, "%s\"%s\":", i ? "," : "", g->key);
    uint32_t *locs = gql_alloc_array (p->a, (size_t) g->nodes.n * 2, sizeof *locs);
    if (!prefix || !locs) {
        s_oom (p);
        return -1;
    }
    f->prefix = prefix;
    f->prefix_len = (uint32_t) strlen (prefix);
    f->key = prefix + (i ? 2 : 1);
    f->key_len = (uint32_t) klen;
    f->name = first->name;
    f->name_len = (uint32_t) strlen (first->name);
    if (!(f->name = gql_strndup (p->a, first->name, f->name_len))) {
        s_oom (p);
        return -1;
    }
    f->parent = obj;
    f->is_typename = strcmp (first->name, "__typename") == 0;
    for (uint32_t j = 0; j < g->nodes.n; j++) {
        const gql_sel_t *n = g->nodes.items[j];
        if (gql_src_pos (p->src, p->tmp, n->loc, &locs[2 * j], &locs[2 * j + 1]) != 0) {
            s_oom (p);
            return -1;
        }
    }
    f->locs = locs;
    f->nlocs = g->nodes.n;
    GQL_WORK (p->e, g->nodes.n);
    const gql_field_t *def =
        f->is_typename ? &p->s->typename_field : gql_type_field (obj, first->name);
    if (!def) {
        //  Validation guarantees the field; this is a bug if reached.
        gql_err (p->e, first->loc, "Internal error: field \"%s\" not found on \"%s\".", first->name,
                 obj->name);
        p->failed = 1;
        return -1;
    }
    return (f->type = s_ptype (p, def->type, g, depth + 1)) ? 0 : -1;
}

//  The fields of object type obj for the merged sub-selections of a group
//  (or the operation's selection set, for the root).
static const gql_pobj_t *
s_pobj (s_plan_t *p, const gql_type_t *obj, const gql_selset_t *const *sets, uint32_t nsets,
        int depth)
{
    gql_pobj_t *po = gql_alloc (p->a, sizeof *po);
    if (!po) {
        s_oom (p);
        return NULL;
    }
    po->type = obj;
    po->name = obj->name;
    po->name_len = (uint32_t) strlen (obj->name);
    char *nj = gql_sprintf (p->a, "\"%s\"", obj->name);   //  names need no escaping
    if (!nj) {
        s_oom (p);
        return NULL;
    }
    po->name_json = nj;
    po->name_json_len = po->name_len + 2;
    gql_vec_t groups = { 0 };
    gql_map_t map = { 0 };
    p->stamp++;
    for (uint32_t i = 0; i < nsets; i++)
        s_collect (p, obj, sets[i], &groups, &map, 0);
    if (p->failed)
        return NULL;
    gql_pfield_t *fields = gql_alloc_array (p->a, groups.n ? groups.n : 1, sizeof *fields);
    if (!fields) {
        s_oom (p);
        return NULL;
    }
    for (uint32_t i = 0; i < groups.n; i++)
        if (s_pfield (p, obj, groups.items[i], i, &fields[i], depth) != 0)
            return NULL;
    po->fields = fields;
    po->nfields = groups.n;
    return po;
}

static const gql_ptype_t *
s_ptype (s_plan_t *p, const gql_tref_t *t, const s_group_t *g, int depth)
{
    gql_ptype_t *pt = gql_alloc (p->a, sizeof *pt);
    if (!pt) {
        s_oom (p);
        return NULL;
    }
    if (t->kind != GQL_T_NAMED) {
        pt->kind = t->kind == GQL_T_NONNULL ? GQL_P_NONNULL : GQL_P_LIST;
        pt->of = s_ptype (p, t->of, g, depth);
        return pt->of ? pt : NULL;
    }
    const gql_type_t *nt = t->type;
    pt->type = nt;
    if (nt->kind == GQL_K_SCALAR) {
        static const gql_pkind_t kinds[] = {
            [GQL_S_CUSTOM] = GQL_P_CUSTOM, [GQL_S_INT] = GQL_P_INT, [GQL_S_FLOAT] = GQL_P_FLOAT,
            [GQL_S_STRING] = GQL_P_STRING, [GQL_S_BOOLEAN] = GQL_P_BOOLEAN, [GQL_S_ID] = GQL_P_ID,
        };
        pt->kind = kinds[nt->scalar];
        return pt;
    }
    if (nt->kind == GQL_K_ENUM) {
        //  Names with their lengths, so executing compares lengths first.
        gql_pname_t *vals = gql_alloc_array (p->a, nt->values.n ? nt->values.n : 1, sizeof *vals);
        if (!vals) {
            s_oom (p);
            return NULL;
        }
        for (uint32_t i = 0; i < nt->values.n; i++) {
            vals[i].s = nt->values.items[i];
            vals[i].len = (uint32_t) strlen (vals[i].s);
        }
        pt->kind = GQL_P_ENUM;
        pt->values = vals;
        pt->nvalues = nt->values.n;
        return pt;
    }
    //  Composite: the merged sub-selections of every node in the group.
    const gql_selset_t **sets = gql_alloc_array (p->tmp, g->nodes.n, sizeof *sets);
    if (!sets) {
        s_oom (p);
        return NULL;
    }
    uint32_t nsets = 0;
    for (uint32_t i = 0; i < g->nodes.n; i++) {
        const gql_sel_t *n = g->nodes.items[i];
        if (n->selset)
            sets[nsets++] = n->selset;
    }
    if (nt->kind == GQL_K_OBJECT) {
        pt->kind = GQL_P_OBJECT;
        pt->obj = s_pobj (p, nt, sets, nsets, depth);
        return pt->obj ? pt : NULL;
    }
    pt->kind = GQL_P_ABSTRACT;
    gql_pobj_t *alts = gql_alloc_array (p->a, nt->possible.n ? nt->possible.n : 1, sizeof *alts);
    if (!alts) {
        s_oom (p);
        return NULL;
    }
    for (uint32_t i = 0; i < nt->possible.n; i++) {
        const gql_pobj_t *po = s_pobj (p, nt->possible.items[i], sets, nsets, depth);
        if (!po)
            return NULL;
        alts[i] = *po;
    }
    pt->alts = alts;
    pt->nalts = nt->possible.n;
    return pt;
}

//  ---------------------------------------------------------------------
//  The key

static void s_key_obj (jbuf_t *b, const gql_pobj_t *o, int locs);

static void
s_key_str (jbuf_t *b, const char *s, size_t len)
{
    char tmp[16];
    int n = snprintf (tmp, sizeof tmp, "%zu:", len);
    jbuf_put (b, tmp, (size_t) n);
    jbuf_put (b, s, len);
}

static void
s_key_type (jbuf_t *b, const gql_ptype_t *t, int locs)
{
    static const char code[] = {
        [GQL_P_NONNULL] = '!', [GQL_P_LIST] = '[', [GQL_P_INT] = 'i', [GQL_P_FLOAT] = 'f',
        [GQL_P_STRING] = 's', [GQL_P_BOOLEAN] = 'b', [GQL_P_ID] = 'd', [GQL_P_CUSTOM] = 'c',
        [GQL_P_ENUM] = 'e', [GQL_P_OBJECT] = 'o', [GQL_P_ABSTRACT] = 'a',
    };
    jbuf_putc (b, code[t->kind]);
    switch (t->kind) {
        case GQL_P_NONNULL:
        case GQL_P_LIST:
            s_key_type (b, t->of, locs);
            break;
        case GQL_P_ENUM:
        case GQL_P_CUSTOM:
            s_key_str (b, t->type->name, strlen (t->type->name));
            break;
        case GQL_P_OBJECT:
            s_key_obj (b, t->obj, locs);
            break;
        case GQL_P_ABSTRACT: {
            s_key_str (b, t->type->name, strlen (t->type->name));
            char tmp[16];
            int n = snprintf (tmp, sizeof tmp, "%u", t->nalts);
            jbuf_put (b, tmp, (size_t) n);
            for (uint32_t i = 0; i < t->nalts; i++)
                s_key_obj (b, &t->alts[i], locs);
            break;
        }
        default:
            break;
    }
}

//  locs: whether the fields' document locations are part of the key.
static void
s_key_field (jbuf_t *b, const gql_pfield_t *f, int locs)
{
    char tmp[48];
    jbuf_putc (b, 'F');
    s_key_str (b, f->key, f->key_len);
    s_key_str (b, f->name, f->name_len);
    if (f->is_typename) {
        jbuf_putc (b, ';');
        return;             //  __typename cannot fail, so its locations never show
    }
    for (uint32_t i = 0; locs && i < f->nlocs; i++) {
        int n = snprintf (tmp, sizeof tmp, "@%u,%u", f->locs[2 * i], f->locs[2 * i + 1]);
        jbuf_put (b, tmp, (size_t) n);
    }
    s_key_type (b, f->type, locs);
    jbuf_putc (b, ';');
}

static void
s_key_obj (jbuf_t *b, const gql_pobj_t *o, int locs)
{
    jbuf_putc (b, '{');
    s_key_str (b, o->name, o->name_len);
    for (uint32_t i = 0; i < o->nfields; i++)
        s_key_field (b, &o->fields[i], locs);
    jbuf_putc (b, '}');
}

//  ---------------------------------------------------------------------
//  The topic

static int
s_topic (s_plan_t *p, gql_sub_t *sub, const gql_field_t *def, const gql_sel_t *node)
{
    //  CoerceArgumentValues for the root field, whether or not the topic
    //  uses every argument: a bad one is an error either way.
    const gql_cval_t **vals = gql_alloc_array (p->tmp, def->args.n + 1, sizeof *vals);
    if (!vals) {
        s_oom (p);
        return -1;
    }
    if (gql_coerce_args (p->tmp, p->e, &node->args, &def->args, p->vars, node->loc, "Field", vals)
        != 0)
        return -1;
    sub->topic = gql_topic_expand (&sub->arena, p->e, def, vals, p->claims, node->loc);
    return sub->topic ? 0 : -1;
}

int
gql_plan (gql_sub_t *sub, gql_arena_t *tmp, const gql_schema_t *s, gql_doc_t *doc,
          const gql_operation_t *op, const gql_vars_t *vars, const json_t *claims,
          int max_depth, gql_src_t *src, gql_errs_t *e)
{
    s_plan_t plan = {
        .a = &sub->arena, .tmp = tmp, .s = s, .vars = vars, .claims = claims, .e = e, .src = src,
        //  The plan's depth also bounds recursion when executing, so it
        //  is capped whatever the caller asks.
        .max_depth = max_depth > GQL_MAX_NESTING ? GQL_MAX_NESTING : max_depth,
    };
    s_plan_t *p = &plan;
    for (uint32_t i = 0; i < doc->defs.n; i++)
        if (((gql_def_t *) doc->defs.items[i])->kind == GQL_D_FRAGMENT)
            p->nfrags++;
    p->frag_stamp = gql_alloc_array (tmp, p->nfrags + 1, sizeof *p->frag_stamp);
    if (!p->frag_stamp) {
        e->oom = 1;
        return -1;
    }
    const gql_selset_t *root_set = op->selset;
    const gql_pobj_t *root = s_pobj (p, s->subscription, &root_set, 1, 0);
    if (!root)
        return -1;
    if (root->nfields != 1) {
        //  Validation leaves exactly one root field; kept as a guard.
        gql_err (e, op->loc, "A subscription must select exactly one root field.");
        return -1;
    }
    sub->root = &root->fields[0];
    //  The topic comes from the root field's first node (merging made
    //  every node's arguments identical).
    gql_vec_t groups = { 0 };
    gql_map_t map = { 0 };
    p->stamp++;
    s_collect (p, s->subscription, op->selset, &groups, &map, 0);
    if (p->failed || groups.n != 1)
        return -1;
    const gql_sel_t *node = ((s_group_t *) groups.items[0])->nodes.items[0];
    if (s_topic (p, sub, node->def, node) != 0)
        return -1;
    //  Two keys: with locations (they show in error results) and without
    //  (the edge shares renderings by this one while results have no
    //  errors).
    int rc = 0;
    for (int locs = 1; locs >= 0 && rc == 0; locs--) {
        jbuf_t key;
        jbuf_init (&key, 0);
        s_key_str (&key, s->subscription->name, strlen (s->subscription->name));
        s_key_field (&key, sub->root, locs);
        char *copy = jbuf_failed (&key) ? NULL : gql_strndup (&sub->arena, key.data, key.len);
        if (!copy) {
            e->oom = 1;
            rc = -1;
        }
        else if (locs) {
            sub->key = copy;
            sub->key_len = key.len;
        }
        else {
            sub->shape_key = copy;
            sub->shape_key_len = key.len;
        }
        jbuf_free (&key);
    }
    return rc;
}
