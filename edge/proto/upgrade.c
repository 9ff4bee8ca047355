/*  upgrade.c: whether the edge takes a WebSocket upgrade. See upgrade.h. */
#include "upgrade.h"

#include <string.h>
#include <strings.h>

#define HTTP_BAD_REQUEST 400
#define HTTP_FORBIDDEN 403
#define HTTP_NOT_FOUND 404
#define HTTP_HEADERS_TOO_LARGE 431
#define HTTP_SERVICE_UNAVAILABLE 503

int
upgrade_origin_listed (const char *list, const char *origin)
{
    if (strcmp (list, "*") == 0)
        return 1;
    size_t olen = strlen (origin);
    for (const char *p = list; *p;) {
        size_t len = strcspn (p, ",");
        if (len > 0 && len == olen && strncasecmp (p, origin, len) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

static int
s_ours (const char *name, size_t len)
{
    static const char *const ours[] = { "graphql-transport-ws", "graphql-ws" };
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (strlen (ours[i]) == len && memcmp (ours[i], name, len) == 0)
            return 1;
    return 0;
}

int
upgrade_offers_ours (const char *offer)
{
    const char *separators = ", \t";
    for (const char *p = offer + strspn (offer, separators); *p;
         p += strspn (p, separators)) {
        size_t len = strcspn (p, separators);
        if (s_ours (p, len))
            return 1;
        p += len;
    }
    return 0;
}

static upgrade_verdict_t
s_verdict (upgrade_reason_t reason, int status, const char *text)
{
    return (upgrade_verdict_t) { reason, status, text };
}

upgrade_verdict_t
upgrade_check (const upgrade_request_t *req, const upgrade_policy_t *policy)
{
    //  The edge writes whole WebSocket frames straight to HTTP/1.1
    //  connections; lws would hang up on h2c without a word. Other
    //  upgrades lws answers itself, with 403.
    if (strcasecmp (req->upgrade, "h2c") == 0)
        return s_verdict (UPGRADE_NO_H2C, HTTP_BAD_REQUEST,
                         "HTTP/2 is not served here: use HTTP/1.1");
    if (strcasecmp (req->upgrade, "websocket") != 0)
        return s_verdict (UPGRADE_NOT_WEBSOCKET, 0, "");
    if (req->header_bytes > policy->max_header_bytes)
        return s_verdict (UPGRADE_HEADERS_TOO_LARGE, HTTP_HEADERS_TOO_LARGE,
                         "the request's headers are too large (see --max-header-bytes)");
    if (policy->tls_only && !req->tls)
        return s_verdict (UPGRADE_TLS_ONLY, HTTP_BAD_REQUEST,
                         "this port takes TLS only: connect with wss://");
    if (!req->uri || strcmp (req->uri, "/graphql") != 0)
        return s_verdict (UPGRADE_WRONG_PATH, HTTP_NOT_FOUND, "WebSocket endpoint is /graphql");
    //  A request without an Origin is not from a browser page: the check
    //  keeps other sites' pages from using the edge, nothing more. The
    //  edge's own pages are not trusted by their Host header, which a page
    //  on a rebound DNS name controls: they are listed like any other.
    int origin_ok = strcmp (policy->allow_origin, "*") == 0
                    || (!req->origin && !req->origin_unreadable)
                    || (req->origin && upgrade_origin_listed (policy->allow_origin, req->origin));
    if (!origin_ok)
        return s_verdict (UPGRADE_ORIGIN, HTTP_FORBIDDEN,
                         "this page's origin may not connect (see --allow-origin)");
    if (policy->connections >= policy->max_connections)
        return s_verdict (UPGRADE_FULL, HTTP_SERVICE_UNAVAILABLE, "too many connections");
    //  A client that offers subprotocols, none of them ours, is told so
    //  (lws would drop it without a word).
    if (req->protocols_unreadable || (req->protocols && !upgrade_offers_ours (req->protocols)))
        return s_verdict (UPGRADE_SUBPROTOCOL, HTTP_BAD_REQUEST,
                         "unsupported WebSocket subprotocol: offer graphql-transport-ws or "
                         "graphql-ws");
    return s_verdict (UPGRADE_ACCEPT, 0, "");
}
