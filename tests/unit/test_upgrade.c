/*  test_upgrade.c: the policy for WebSocket upgrades (edge/proto/upgrade.c):
 *  each refusal with its status, in the order the checks run, and the
 *  parsing of Origin lists and subprotocol offers.
 */
#include "testutil.h"
#include "upgrade.h"

#include <string.h>

static upgrade_request_t
s_request (void)
{
    return (upgrade_request_t) { .upgrade = "websocket", .uri = "/graphql",
                                 .protocols = "graphql-transport-ws", .header_bytes = 400 };
}

static upgrade_policy_t
s_policy (void)
{
    return (upgrade_policy_t) { .allow_origin = "*", .max_header_bytes = 16384,
                                .connections = 0, .max_connections = 10 };
}

static void
test_accepts (void)
{
    upgrade_request_t req = s_request ();
    upgrade_policy_t pol = s_policy ();
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    req.protocols = NULL;               //  closed 4406 later, by the protocol layer
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    req.upgrade = "WebSocket";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    pol.tls_only = 1;
    req.tls = 1;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
}

static void
test_refusals (void)
{
    upgrade_policy_t pol = s_policy ();
    upgrade_request_t req = s_request ();
    req.upgrade = "h2c";
    upgrade_verdict_t v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_NO_H2C);
    CHECK_INT (v.status, 400);
    req.upgrade = "";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_NOT_WEBSOCKET);
    CHECK_INT (upgrade_check (&req, &pol).status, 0);

    req = s_request ();
    req.header_bytes = 16385;
    v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_HEADERS_TOO_LARGE);
    CHECK_INT (v.status, 431);
    CHECK (strstr (v.text, "--max-header-bytes") != NULL);
    req.header_bytes = 16384;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);

    pol.tls_only = 1;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_TLS_ONLY);
    pol.tls_only = 0;

    req.uri = "/other";
    v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_WRONG_PATH);
    CHECK_INT (v.status, 404);
    req.uri = NULL;                     //  longer than the glue reads
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_WRONG_PATH);
    req.uri = "/graphql";

    pol.connections = 10;
    v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_FULL);
    CHECK_INT (v.status, 503);
    pol.connections = 0;

    req.protocols = "chat, superchat";
    v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_SUBPROTOCOL);
    CHECK_INT (v.status, 400);
    req.protocols = NULL;
    req.protocols_unreadable = 1;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_SUBPROTOCOL);
}

//  The first check that fails decides: a request wrong in every way is
//  refused for its headers' size first, as it was before it was parsed.
static void
test_order (void)
{
    upgrade_request_t req = { .upgrade = "websocket", .uri = "/x", .origin = "http://evil",
                              .protocols = "x", .header_bytes = 99999 };
    upgrade_policy_t pol = { .allow_origin = "http://good", .max_header_bytes = 10,
                             .tls_only = 1, .connections = 5, .max_connections = 5 };
    upgrade_reason_t expected[] = { UPGRADE_HEADERS_TOO_LARGE, UPGRADE_TLS_ONLY,
                                    UPGRADE_WRONG_PATH, UPGRADE_ORIGIN, UPGRADE_FULL,
                                    UPGRADE_SUBPROTOCOL, UPGRADE_ACCEPT };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        CHECK_INT (upgrade_check (&req, &pol).reason, expected[i]);
        switch (expected[i]) {
            case UPGRADE_HEADERS_TOO_LARGE: req.header_bytes = 1; break;
            case UPGRADE_TLS_ONLY: req.tls = 1; break;
            case UPGRADE_WRONG_PATH: req.uri = "/graphql"; break;
            case UPGRADE_ORIGIN: req.origin = "HTTP://GOOD"; break;
            case UPGRADE_FULL: pol.connections = 4; break;
            case UPGRADE_SUBPROTOCOL: req.protocols = "graphql-ws"; break;
            default: break;
        }
    }
}

static void
test_origins (void)
{
    upgrade_policy_t pol = s_policy ();
    upgrade_request_t req = s_request ();
    pol.allow_origin = "https://a.example,http://127.0.0.1:8080";
    req.origin = "https://a.example";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    req.origin = "http://127.0.0.1:8080";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    req.origin = "https://a.example.evil";      //  whole entries only
    upgrade_verdict_t v = upgrade_check (&req, &pol);
    CHECK_INT (v.reason, UPGRADE_ORIGIN);
    CHECK_INT (v.status, 403);
    req.origin = "https://a";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ORIGIN);
    req.origin = "";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ORIGIN);
    //  No Origin: not a browser page, not held to the list.
    req.origin = NULL;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    //  One too long to read is refused, unless any origin may connect.
    req.origin_unreadable = 1;
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ORIGIN);
    pol.allow_origin = "*";
    CHECK_INT (upgrade_check (&req, &pol).reason, UPGRADE_ACCEPT);
    CHECK (upgrade_origin_listed ("a,,b", "b"));
    CHECK (!upgrade_origin_listed ("a,", ""));
    CHECK (!upgrade_origin_listed ("a,,b", ""));
    CHECK (!upgrade_origin_listed (",a", ""));
    CHECK (!upgrade_origin_listed ("", "a"));
}

static void
test_offers (void)
{
    CHECK (upgrade_offers_ours ("graphql-transport-ws"));
    CHECK (upgrade_offers_ours ("graphql-ws"));
    CHECK (upgrade_offers_ours ("chat, graphql-ws"));
    CHECK (upgrade_offers_ours (" \tgraphql-ws,"));
    CHECK (upgrade_offers_ours ("a,b\tgraphql-transport-ws c"));
    CHECK (!upgrade_offers_ours ("graphql-wsx"));
    CHECK (!upgrade_offers_ours ("graphql"));
    CHECK (!upgrade_offers_ours ("GRAPHQL-WS"));        //  names are case-sensitive
    CHECK (!upgrade_offers_ours (""));
    CHECK (!upgrade_offers_ours (", ,\t"));
}

int
main (int argc, char **argv)
{
    TEST_INIT (argc, argv);
    RUN (test_accepts);
    RUN (test_refusals);
    RUN (test_order);
    RUN (test_origins);
    RUN (test_offers);
    return TEST_RESULT ();
}
