/*  upgrade.h: whether the edge takes a WebSocket upgrade, from the
 *  request's headers as the socket glue read them.
 *
 *  Pure: no libwebsockets, no I/O. The glue copies each header out of the
 *  request (or says it is absent, or longer than it reads) and answers
 *  with the verdict's status and text; the verdict's reason names the
 *  metric to count.
 */
#ifndef HERALD_UPGRADE_H
#define HERALD_UPGRADE_H

#include <stddef.h>

//  The longest Origin and Sec-WebSocket-Protocol values the glue reads;
//  a longer one is reported as unreadable.
#define UPGRADE_HEADER_MAX 255

typedef struct {
    const char *upgrade;        //  the Upgrade header, "" if absent
    const char *uri;            //  the request's path, NULL if unreadable
    const char *origin;         //  NULL if absent
    int origin_unreadable;      //  present but longer than UPGRADE_HEADER_MAX
    const char *protocols;      //  the subprotocols offered, NULL if none
    int protocols_unreadable;   //  present but longer than UPGRADE_HEADER_MAX
    size_t header_bytes;        //  every stored header, the URI included
    int tls;                    //  the connection is TLS
} upgrade_request_t;

typedef struct {
    const char *allow_origin;   //  comma-separated origins, or "*" for any
    size_t max_header_bytes;
    int tls_only;               //  the port serves TLS
    long connections;           //  open WebSocket connections now
    long max_connections;
} upgrade_policy_t;

typedef enum {
    UPGRADE_ACCEPT = 0,         //  hand it to the protocols
    UPGRADE_NOT_WEBSOCKET,      //  an upgrade to something else: lws answers it
    UPGRADE_NO_H2C,             //  HTTP/2 over clear text is not served
    UPGRADE_HEADERS_TOO_LARGE,  //  over max_header_bytes
    UPGRADE_TLS_ONLY,           //  plain text on a TLS port
    UPGRADE_WRONG_PATH,         //  not /graphql
    UPGRADE_ORIGIN,             //  Origin not in allow_origin
    UPGRADE_FULL,               //  at max_connections
    UPGRADE_SUBPROTOCOL         //  offers subprotocols, none of them ours
} upgrade_reason_t;

typedef struct {
    upgrade_reason_t reason;
    int status;                 //  the HTTP status to answer, 0 if none
    const char *text;           //  the answer's body (static)
} upgrade_verdict_t;

/*  The checks run in the order of upgrade_reason_t; the first that fails
 *  decides. A request with no Origin is not from a browser page and is not
 *  held to allow_origin; one that offers no subprotocol is accepted here
 *  and closed 4406 by the protocol layer, as graphql-ws's server does. */
upgrade_verdict_t upgrade_check (const upgrade_request_t *req, const upgrade_policy_t *policy);

/*  1 if origin is in list ("*" or comma-separated, compared without case;
 *  an empty entry lists nothing). */
int upgrade_origin_listed (const char *list, const char *origin);

/*  1 if the comma- or blank-separated offer names a protocol the edge
 *  speaks (graphql-transport-ws or graphql-ws). */
int upgrade_offers_ours (const char *offer);

#endif
