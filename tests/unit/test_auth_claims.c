/*  test_auth_claims.c: the claims side of auth_verify (edge/auth/claims.c)
 *  on HS256 tokens from auth_tokens.py: exp, nbf and iat at the edges of
 *  the leeway, iss and aud, the types of registered claims, and the
 *  topics claim with what the identity then allows.
 *
 *  ./unit_auth_claims FIXTURE_DIR [TEST]
 */
#include "auth_fixture.h"

static auth_keys_t *s_keys;
static auth_config_t s_config = {
    .issuer = "https://issuer.example",
    .audience = "herald",
    .topics_claim = "topics",
};

static auth_rc_t
s_at (const char *name, int64_t leeway_ms, int64_t now_ms)
{
    auth_config_t config = s_config;
    config.leeway_ms = leeway_ms;
    return fx_verify (s_keys, &config, name, now_ms);
}

static void
test_expiry (void)
{
    //  exp is now + 600 s; not accepted on or after it, less the leeway.
    int64_t exp = fx_now_ms + 600000;
    CHECK_RC (s_at ("HS256", 0, exp - 1), AUTH_OK);
    CHECK_RC (s_at ("HS256", 0, exp), AUTH_EXPIRED);
    CHECK_RC (s_at ("HS256", 30000, exp + 29999), AUTH_OK);
    CHECK_RC (s_at ("HS256", 30000, exp + 30000), AUTH_EXPIRED);
    CHECK_RC (s_at ("HS256", -5000, exp), AUTH_EXPIRED);    //  a negative leeway is none
    //  Sums saturate: no wrap turns late into early.
    CHECK_RC (s_at ("HS256", INT64_MAX, fx_now_ms), AUTH_OK);
    CHECK_RC (s_at ("HS256", 0, INT64_MAX), AUTH_EXPIRED);
    CHECK_RC (s_at ("HS256", 0, INT64_MIN), AUTH_NOT_YET_VALID);
    //  A fractional NumericDate keeps its milliseconds.
    CHECK_RC (s_at ("exp_real", 0, fx_now_ms + 499), AUTH_OK);
    CHECK_RC (s_at ("exp_real", 0, fx_now_ms + 500), AUTH_EXPIRED);
    CHECK_RC (s_at ("no_exp", 0, INT64_MAX), AUTH_OK);
    const char *token = fx_token ("no_exp");
    auth_identity_t *id = NULL;
    CHECK_RC (auth_verify (s_keys, &s_config, token, strlen (token), fx_now_ms, &id), AUTH_OK);
    CHECK_INT (auth_identity_expires (id), INT64_MAX);
    auth_identity_destroy (&id);
}

static void
test_not_yet_valid (void)
{
    //  nbf and iat are now - 60 s in the base token.
    int64_t nbf = fx_now_ms - 60000;
    CHECK_RC (s_at ("HS256", 0, nbf), AUTH_OK);
    CHECK_RC (s_at ("HS256", 0, nbf - 1), AUTH_NOT_YET_VALID);
    CHECK_RC (s_at ("HS256", 30000, nbf - 30000), AUTH_OK);
    CHECK_RC (s_at ("HS256", 30000, nbf - 30001), AUTH_NOT_YET_VALID);
    //  Each of nbf and iat on its own, at now + 100 s.
    const char *names[] = { "nbf_only", "iat_only" };
    for (int i = 0; i < 2; i++) {
        CHECK_RC (s_at (names[i], 30000, fx_now_ms), AUTH_NOT_YET_VALID);
        CHECK_RC (s_at (names[i], 30000, fx_now_ms + 70000), AUTH_OK);
        CHECK_RC (s_at (names[i], 0, fx_now_ms + 99999), AUTH_NOT_YET_VALID);
        CHECK_RC (s_at (names[i], 0, fx_now_ms + 100000), AUTH_OK);
    }
}

static void
test_issuer_audience (void)
{
    CHECK_RC (s_at ("iss_missing", 0, fx_now_ms), AUTH_ISSUER);
    CHECK_RC (s_at ("iss_wrong", 0, fx_now_ms), AUTH_ISSUER);
    CHECK_RC (s_at ("iss_number", 0, fx_now_ms), AUTH_CLAIMS);
    CHECK_RC (s_at ("aud_array", 0, fx_now_ms), AUTH_OK);
    CHECK_RC (s_at ("aud_array_miss", 0, fx_now_ms), AUTH_AUDIENCE);
    CHECK_RC (s_at ("aud_missing", 0, fx_now_ms), AUTH_AUDIENCE);
    CHECK_RC (s_at ("aud_number", 0, fx_now_ms), AUTH_CLAIMS);
    CHECK_RC (s_at ("aud_array_number", 0, fx_now_ms), AUTH_CLAIMS);
    //  Not asked for, not checked (but the types still are).
    auth_config_t config = { .leeway_ms = 0 };
    CHECK_RC (fx_verify (s_keys, &config, "iss_wrong", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (s_keys, &config, "aud_missing", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (s_keys, &config, "aud_array_miss", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (s_keys, &config, "aud_number", fx_now_ms), AUTH_CLAIMS);
    CHECK_RC (fx_verify (s_keys, NULL, "iss_wrong", fx_now_ms), AUTH_OK);
    CHECK_RC (fx_verify (s_keys, NULL, "HS256", fx_now_ms + 600000), AUTH_EXPIRED);
}

static void
test_claim_types (void)
{
    const char *names[] = { "exp_string", "nbf_bool", "iat_null", "sub_number" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_RC (s_at (names[i], 30000, fx_now_ms), AUTH_CLAIMS);
    const char *token = fx_token ("no_sub");
    auth_identity_t *id = NULL;
    CHECK_RC (auth_verify (s_keys, &s_config, token, strlen (token), fx_now_ms, &id), AUTH_OK);
    CHECK (auth_identity_sub (id) == NULL);
    const json_t *claims = auth_identity_claims (id);
    CHECK_STR (json_string_value (json_object_get (claims, "iss")), "https://issuer.example");
    auth_identity_destroy (&id);
}

//  The identity of token name under topics_claim claim (freed by the caller).
static auth_identity_t *
s_identity (const char *name, const char *claim)
{
    auth_config_t config = s_config;
    config.topics_claim = claim;
    const char *token = fx_token (name);
    auth_identity_t *id = NULL;
    CHECK_RC (auth_verify (s_keys, &config, token, strlen (token), fx_now_ms, &id), AUTH_OK);
    return id;
}

#define ALLOWS(id, topic) auth_identity_allows ((id), (topic), strlen (topic))

static void
test_topics (void)
{
    auth_identity_t *id = s_identity ("HS256", "topics");
    CHECK (ALLOWS (id, "news.today"));
    CHECK (ALLOWS (id, "user.alice.inbox"));
    CHECK (ALLOWS (id, "user.alice.inbox.unread"));
    CHECK (!ALLOWS (id, "news"));
    CHECK (!ALLOWS (id, "news.a.b"));
    CHECK (!ALLOWS (id, "user.alice"));
    CHECK (!ALLOWS (id, "user.bob.inbox"));
    auth_identity_destroy (&id);
    id = s_identity ("topics_string", "topics");
    CHECK (ALLOWS (id, "news.x") && !ALLOWS (id, "user.alice.inbox"));
    auth_identity_destroy (&id);
    id = s_identity ("topics_nested", "herald.topics");
    CHECK (ALLOWS (id, "chat.general") && ALLOWS (id, "user.a.b") && !ALLOWS (id, "news.x"));
    auth_identity_destroy (&id);
    //  Absent claims, an empty list, and no claim configured allow nothing.
    const char *none[][2] = { { "topics_nested", "topics" }, { "topics_empty", "topics" },
                              { "no_topics", "topics" }, { "HS256", NULL },
                              { "HS256", "herald.topics" } };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        id = s_identity (none[i][0], none[i][1]);
        CHECK (id && !ALLOWS (id, "news.x") && !ALLOWS (id, "chat.general"));
        auth_identity_destroy (&id);
    }
    CHECK (!ALLOWS (NULL, "news.x"));
}

static void
test_topics_refused (void)
{
    const char *names[] = { "topics_number", "topics_array_number", "topics_object",
                            "topics_malformed", "topics_gt_middle" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        CHECK_RC (s_at (names[i], 0, fx_now_ms), AUTH_CLAIMS);
    //  A step of the path that is not an object.
    auth_config_t config = s_config;
    config.topics_claim = "herald.topics";
    CHECK_RC (fx_verify (s_keys, &config, "topics_not_object", fx_now_ms), AUTH_CLAIMS);
    config.topics_claim = "sub.topics";
    CHECK_RC (fx_verify (s_keys, &config, "HS256", fx_now_ms), AUTH_CLAIMS);
    config.topics_claim = "topics.deeper";
    CHECK_RC (fx_verify (s_keys, &config, "HS256", fx_now_ms), AUTH_CLAIMS);
}

int
main (int argc, char **argv)
{
    if (fx_load (argc, argv) != 0)
        return 1;
    TEST_INIT (argc - 1, argv + 1);
    if (setjmp (t_abort) == 0)
        s_keys = fx_keys ("hs.key", NULL);
    RUN (test_expiry);
    RUN (test_not_yet_valid);
    RUN (test_issuer_audience);
    RUN (test_claim_types);
    RUN (test_topics);
    RUN (test_topics_refused);
    auth_keys_destroy (&s_keys);
    free (fx_manifest);
    return TEST_RESULT ();
}
