/*  session.c: the id table, the per-session limits, and the start of an
 *  operation, shared by every transport. See session.h.
 *
 *  A session holds few operations (--max-subscriptions, 100 by default),
 *  so its table is an array searched in order: no hashing for the common
 *  case of one to three. The checks of a token are auth/'s; this file
 *  decides, by --auth, when a token is needed and what it allows.
 */
#include "session.h"
#include "gql.h"
#include "hub.h"
#include "jbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sessions {
    session_config_t config;
    const gql_schema_t *schema;
    hub_t *hub;
    const auth_keys_t *keys;
    session_stats_t *stats;             //  own_stats, or where the owner placed them
    session_stats_t own_stats;
};

typedef struct {
    char *id;
    hub_sub_t *sub;
} operation_t;

struct session {
    sessions_t *sessions;
    session_ids_t ids;
    session_out_fn *out;
    void *ctx;
    operation_t *ops;           //  first, until a second operation runs
    int count;
    int cap;
    operation_t first;
    double tokens;              //  the rate limit's tokens left
    int64_t tokens_at;          //  when they were counted
    int refused;                //  refused by the rate limit in a row
    auth_identity_t *identity;  //  the client's token, or NULL
};

//  The wall clock, unless the config gives another (a test's).
static int64_t
s_wall_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sessions_t *
sessions_new (const session_config_t *config, const gql_schema_t *schema, hub_t *hub)
{
    sessions_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = *config;
    self->stats = &self->own_stats;
    if (self->config.subscribe_rate > 0 && self->config.subscribe_burst < 1)
        self->config.subscribe_burst = self->config.subscribe_rate;
    if (!self->config.wall_ms)
        self->config.wall_ms = s_wall_ms;
    self->schema = schema;
    self->hub = hub;
    return self;
}

void
sessions_destroy (sessions_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

const session_stats_t *
sessions_stats (const sessions_t *self)
{
    return self->stats;
}

void
sessions_place_stats (sessions_t *self, session_stats_t *where)
{
    *where = *self->stats;
    self->stats = where;
}

void
sessions_set_keys (sessions_t *self, const auth_keys_t *keys)
{
    self->keys = keys;
}

session_t *
session_new (sessions_t *sessions, session_ids_t ids, session_out_fn *out, void *ctx,
             int64_t now_ms)
{
    session_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->sessions = sessions;
    self->ids = ids;
    self->out = out;
    self->ctx = ctx;
    //  Most clients run one operation: it needs no array of its own.
    self->ops = &self->first;
    self->cap = 1;
    self->tokens = sessions->config.subscribe_burst;
    self->tokens_at = now_ms;
    return self;
}

static void
s_drop (session_t *self, operation_t *op)
{
    hub_unsubscribe (self->sessions->hub, op->sub);
    free (op->id);
    *op = self->ops[--self->count];
}

void
session_destroy (session_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    session_t *self = *self_p;
    while (self->count > 0)
        s_drop (self, &self->ops[self->count - 1]);
    if (self->ops != &self->first)
        free (self->ops);
    auth_identity_destroy (&self->identity);
    free (self);
    *self_p = NULL;
}

int
session_count (const session_t *self)
{
    return self->count;
}

static operation_t *
s_find (session_t *self, const char *id)
{
    for (int i = 0; i < self->count; i++)
        if (strcmp (self->ops[i].id, id) == 0)
            return &self->ops[i];
    return NULL;
}

int
session_stop (session_t *self, const char *id)
{
    operation_t *op = s_find (self, id);
    if (!op)
        return 0;
    s_drop (self, op);
    return 1;
}

static char *
s_errors (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

//  The one place that builds the errors of a refused operation: a JSON
//  array holding one GraphQL error with this message.
static char *
s_errors (const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    jbuf_t b;
    jbuf_init (&b, 0);
    jbuf_puts (&b, "[{\"message\":");
    jbuf_json_string (&b, message, strlen (message));
    jbuf_puts (&b, "}]");
    return jbuf_take (&b, NULL);
}

//  The errors of an operation whose topic the client may not have.
static char *
s_forbidden (void)
{
    return strdup ("[{\"message\":\"not allowed to subscribe to this topic\","
                   "\"extensions\":{\"code\":\"FORBIDDEN\"}}]");
}

//  Whether the session may subscribe to topic: every topic with --auth
//  off; else the public ones, and those its token's topics claim allows.
static int
s_allowed (const session_t *self, const auth_identity_t *identity, const char *topic)
{
    const session_config_t *cfg = &self->sessions->config;
    size_t len = strlen (topic);
    return cfg->auth == SESSION_AUTH_OFF || patterns_match (cfg->public_topics, topic, len)
           || (identity && auth_identity_allows (identity, topic, len));
}

//  The token bucket. Returns SESSION_STARTED if an operation may go ahead
//  (and takes its token); otherwise refuses it, or, once the client has
//  gone on after a burst's worth of refusals, floods.
static session_rc_t
s_rate (session_t *self, int64_t now, char **errors)
{
    const session_config_t *cfg = &self->sessions->config;
    if (cfg->subscribe_rate <= 0)
        return SESSION_STARTED;
    if (now > self->tokens_at) {
        self->tokens += (double) (now - self->tokens_at) * cfg->subscribe_rate / 1000.0;
        if (self->tokens > cfg->subscribe_burst)
            self->tokens = cfg->subscribe_burst;
    }
    self->tokens_at = now;
    if (self->tokens >= 1.0) {
        self->tokens -= 1.0;
        self->refused = 0;
        return SESSION_STARTED;
    }
    self->sessions->stats->rate_limited++;
    if (++self->refused > cfg->subscribe_burst)
        return SESSION_FLOOD;
    *errors = s_errors ("too many subscribe requests: the limit is %d a second, in bursts of "
                        "up to %d", cfg->subscribe_rate, cfg->subscribe_burst);
    return *errors ? SESSION_REFUSED : SESSION_FAILED;
}

//  Doubles the table. Returns 0, or -1 if memory ran out.
static int
s_grow (session_t *self)
{
    int cap = self->cap * 2;
    operation_t *inline_ops = self->ops == &self->first ? self->ops : NULL;
    operation_t *ops = realloc (inline_ops ? NULL : self->ops, (size_t) cap * sizeof *ops);
    if (!ops)
        return -1;
    if (inline_ops)
        ops[0] = self->first;
    self->ops = ops;
    self->cap = cap;
    return 0;
}

//  The limits, the engine and the hub. Returns SESSION_STARTED,
//  SESSION_REFUSED (with *errors) or SESSION_FAILED.
static session_rc_t
s_subscribe (session_t *self, const session_op_t *op, char **errors)
{
    sessions_t *all = self->sessions;
    const session_config_t *cfg = &all->config;
    if (self->count >= cfg->max_subscriptions) {
        *errors = s_errors ("too many subscriptions on this connection (the limit is %d)",
                            cfg->max_subscriptions);
        return *errors ? SESSION_REFUSED : SESSION_FAILED;
    }
    if (op->query_len > cfg->max_query) {
        *errors = s_errors ("the document is %zu bytes; the limit is %zu", op->query_len,
                            cfg->max_query);
        return *errors ? SESSION_REFUSED : SESSION_FAILED;
    }
    gql_limits_t limits = { cfg->max_depth, cfg->max_fields };
    const json_t *claims = self->identity ? auth_identity_claims (self->identity) : NULL;
    gql_sub_t *gsub = gql_prepare_as (all->schema, op->query, op->query_len, op->operation_name,
                                      op->variables, claims, &limits, errors);
    if (!gsub)
        return *errors ? SESSION_REFUSED : SESSION_FAILED;
    if (!s_allowed (self, self->identity, gql_sub_topic (gsub))) {
        gql_sub_destroy (&gsub);
        all->stats->forbidden++;
        *errors = s_forbidden ();
        return *errors ? SESSION_REFUSED : SESSION_FAILED;
    }
    if (self->count == self->cap && s_grow (self) != 0) {
        gql_sub_destroy (&gsub);
        return SESSION_FAILED;
    }
    char *id = strdup (op->id);
    if (!id) {
        gql_sub_destroy (&gsub);
        return SESSION_FAILED;
    }
    //  The hub takes gsub, and subscribes upstream for a new topic.
    hub_sub_t *sub = hub_subscribe (all->hub, gsub, self->out, self->ctx, op->prefix,
                                    op->prefix_len);
    if (!sub) {
        free (id);
        return SESSION_FAILED;
    }
    self->ops[self->count++] = (operation_t) { id, sub };
    return SESSION_STARTED;
}

session_rc_t
session_start (session_t *self, const session_op_t *op, int64_t now_ms, char **errors)
{
    *errors = NULL;
    operation_t *running = s_find (self, op->id);
    if (running && self->ids == SESSION_IDS_UNIQUE)
        return SESSION_DUPLICATE;
    if (running)
        s_drop (self, running);
    session_rc_t rc = s_rate (self, now_ms, errors);
    if (rc != SESSION_STARTED)
        return rc;
    rc = s_subscribe (self, op, errors);
    if (rc != SESSION_STARTED)
        self->sessions->stats->refused++;
    return rc;
}

//  ---------------------------------------------------------------------
//  Identity

//  Checks a token against the keys and the config. Returns what
//  auth_verify returns.
static auth_rc_t
s_verify (session_t *self, const char *token, size_t len, auth_identity_t **identity)
{
    const sessions_t *all = self->sessions;
    *identity = NULL;
    if (!token)
        return AUTH_MISSING;
    return auth_verify (all->keys, &all->config.token, token, len, all->config.wall_ms (),
                        identity);
}

auth_rc_t
session_authenticate (session_t *self, const char *token, size_t len)
{
    sessions_t *all = self->sessions;
    //  Nothing to check: authentication is off, or an optional token is
    //  not there (an anonymous client). Neither is counted.
    if (all->config.auth == SESSION_AUTH_OFF
        || (!token && all->config.auth == SESSION_AUTH_OPTIONAL))
        return AUTH_OK;
    auth_identity_t *identity;
    auth_rc_t rc = s_verify (self, token, len, &identity);
    if (rc == AUTH_OK) {
        auth_identity_destroy (&self->identity);
        self->identity = identity;
    }
    all->stats->auth[rc]++;
    return rc;
}

auth_rc_t
session_refresh (session_t *self, const char *token, size_t len, session_revoked_fn *revoked,
                 void *ctx)
{
    sessions_t *all = self->sessions;
    if (all->config.auth == SESSION_AUTH_OFF)
        return AUTH_OK;
    auth_identity_t *identity;
    auth_rc_t rc = s_verify (self, token, len, &identity);
    if (rc == AUTH_OK && self->identity) {
        //  The same client, with a new token: a token for someone else
        //  would be a login on an open socket, which a reconnect does.
        const char *was = auth_identity_sub (self->identity);
        const char *now = auth_identity_sub (identity);
        if (!was != !now || (was && strcmp (was, now) != 0)) {
            auth_identity_destroy (&identity);
            rc = AUTH_SUBJECT;
        }
    }
    all->stats->refresh[rc]++;
    if (rc != AUTH_OK)
        return rc;
    auth_identity_destroy (&self->identity);
    self->identity = identity;
    //  What the new permissions no longer allow ends now. s_drop moves
    //  the last operation into the slot it frees, so that slot is looked
    //  at again.
    char *errors = NULL;
    for (int i = 0; i < self->count;) {
        operation_t *op = &self->ops[i];
        if (s_allowed (self, identity, hub_sub_topic (op->sub))) {
            i++;
            continue;
        }
        if (!errors && !(errors = s_forbidden ()))
            return AUTH_INTERNAL;
        all->stats->revoked++;
        revoked (ctx, op->id, errors);
        s_drop (self, op);
    }
    free (errors);
    return AUTH_OK;
}

int64_t
session_expires_in (const session_t *self)
{
    if (!self->identity)
        return -1;
    int64_t exp = auth_identity_expires (self->identity);
    int64_t leeway = self->sessions->config.token.leeway_ms;
    if (exp > INT64_MAX - leeway)
        return -1;
    int64_t left = exp + leeway - self->sessions->config.wall_ms ();
    return left > 0 ? left : 0;
}

void
session_expired (session_t *self)
{
    self->sessions->stats->expired++;
}

const char *
session_subject (const session_t *self)
{
    return self->identity ? auth_identity_sub (self->identity) : NULL;
}
