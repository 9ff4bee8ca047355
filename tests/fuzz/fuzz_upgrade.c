/*  fuzz_upgrade.c: libFuzzer harness for the WebSocket upgrade policy
 *  (edge/proto/upgrade.c). The first two bytes set the flags and sizes;
 *  the rest, split at newlines, gives the Upgrade header, the path, the
 *  Origin, the subprotocols offered and the --allow-origin list.
 *
 *  Oracles: the sanitizers; the verdict's status is the one its reason
 *  has; a request is accepted exactly when a plain reading of each rule
 *  (with strtok_r for the offer, as the glue did before the policy was
 *  its own module) accepts it.
 */
#include "upgrade.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FIELDS 5
#define FIELD_MAX 512

static int
s_ref_listed (const char *list, const char *origin)
{
    if (strcmp (list, "*") == 0)
        return 1;
    char copy[FIELD_MAX + 1];
    strcpy (copy, list);
    char *p = copy;
    while (1) {
        char *comma = strchr (p, ',');
        if (comma)
            *comma = 0;
        if (*p && strcasecmp (p, origin) == 0)      //  an empty entry lists nothing
            return 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int
s_ref_ours (const char *offer)
{
    char copy[FIELD_MAX + 1], *save = NULL;
    strcpy (copy, offer);
    for (char *t = strtok_r (copy, ", \t", &save); t; t = strtok_r (NULL, ", \t", &save))
        if (strcmp (t, "graphql-transport-ws") == 0 || strcmp (t, "graphql-ws") == 0)
            return 1;
    return 0;
}

static int
s_status_of (upgrade_reason_t reason)
{
    switch (reason) {
        case UPGRADE_ACCEPT: return 0;
        case UPGRADE_NOT_WEBSOCKET: return 0;
        case UPGRADE_NO_H2C: return 400;
        case UPGRADE_HEADERS_TOO_LARGE: return 431;
        case UPGRADE_TLS_ONLY: return 400;
        case UPGRADE_WRONG_PATH: return 404;
        case UPGRADE_ORIGIN: return 403;
        case UPGRADE_FULL: return 503;
        case UPGRADE_SUBPROTOCOL: return 400;
    }
    return -1;
}

int
LLVMFuzzerTestOneInput (const unsigned char *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned flags = data[0], sizes = data[1];
    char fields[FIELDS][FIELD_MAX + 1] = { { 0 } };
    size_t f = 0, k = 0;
    for (size_t i = 2; i < size && f < FIELDS; i++) {
        if (data[i] == '\n') {
            f++;
            k = 0;
        }
        else if (data[i] && k < FIELD_MAX)
            fields[f][k++] = (char) data[i];
    }
    upgrade_request_t req = {
        .upgrade = fields[0],
        .uri = flags & 1 ? NULL : fields[1],
        .origin = flags & 2 ? fields[2] : NULL,
        .origin_unreadable = !(flags & 2) && (flags & 4),
        .protocols = flags & 8 ? fields[3] : NULL,
        .protocols_unreadable = !(flags & 8) && (flags & 16),
        .header_bytes = (size_t) (sizes & 15) * 1000,
        .tls = (flags & 32) != 0,
    };
    upgrade_policy_t pol = {
        .allow_origin = fields[4],
        .max_header_bytes = (size_t) (sizes >> 4) * 1000,
        .tls_only = (flags & 64) != 0,
        .connections = flags & 128 ? 10 : 9,
        .max_connections = 10,
    };
    upgrade_verdict_t v = upgrade_check (&req, &pol);
    if (v.status != s_status_of (v.reason) || !v.text)
        abort ();
    int accept = strcasecmp (req.upgrade, "websocket") == 0
                 && req.header_bytes <= pol.max_header_bytes
                 && (!pol.tls_only || req.tls)
                 && req.uri && strcmp (req.uri, "/graphql") == 0
                 && (strcmp (pol.allow_origin, "*") == 0
                     || (!req.origin && !req.origin_unreadable)
                     || (req.origin && s_ref_listed (pol.allow_origin, req.origin)))
                 && pol.connections < pol.max_connections
                 && !req.protocols_unreadable && (!req.protocols || s_ref_ours (req.protocols));
    if (accept != (v.reason == UPGRADE_ACCEPT))
        abort ();
    if (req.origin && upgrade_origin_listed (pol.allow_origin, req.origin)
                          != s_ref_listed (pol.allow_origin, req.origin))
        abort ();
    if (req.protocols && upgrade_offers_ours (req.protocols) != s_ref_ours (req.protocols))
        abort ();
    return 0;
}
