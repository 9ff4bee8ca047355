#!/usr/bin/python3
"""auth_tokens.py: the keys and tokens unit_auth checks, made fresh by
real tools: keys by openssl, tokens by PyJWT (Debian's python3-jwt), and
the forgeries PyJWT will not make (algorithm confusion, duplicate keys,
wrong curves) by hand with hmac and cryptography.

    /usr/bin/python3 tests/unit/auth_tokens.py OUTDIR

Every time claim is fixed around NOW, and the C test passes its own clock,
so results do not depend on when this runs. OUTDIR/manifest lists the
tokens, one "name token" a line. A missing module is an error, not a skip.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

NOW = 1700000000
SECRET = b"herald-test-secret-0123456789abcdefghijk"      # 40 bytes
BASE = {"sub": "alice", "iss": "https://issuer.example", "aud": "herald",
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 600,
        "topics": ["news.*", "user.alice.>"]}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_keys(out):
    for name, bits in (("rsa", 2048), ("rsa2", 2048), ("rsa1024", 1024)):
        openssl("genrsa", "-out", f"{out}/{name}.pem", str(bits))
    for name, curve in (("ec256", "prime256v1"), ("ec384", "secp384r1"),
                        ("ec521", "secp521r1"), ("k256", "secp256k1")):
        openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", f"{out}/{name}.pem")
    openssl("genpkey", "-algorithm", "ed25519", "-out", f"{out}/ed25519.pem")
    for name in ("rsa", "rsa2", "rsa1024", "ec256", "ec384", "ec521", "k256", "ed25519"):
        openssl("pkey", "-in", f"{out}/{name}.pem", "-pubout", "-out", f"{out}/{name}.pub.pem")
    openssl("rsa", "-in", f"{out}/rsa.pem", "-RSAPublicKey_out", "-out", f"{out}/rsa.pkcs1.pem")
    openssl("req", "-x509", "-key", f"{out}/rsa.pem", "-subj", "/CN=herald", "-days", "1",
            "-out", f"{out}/cert.pem")
    # Two public keys in one file, as a --jwt-key may hold.
    with open(f"{out}/two.pub.pem", "w") as f:
        f.write(read(out, "rsa2.pub.pem").decode() + read(out, "ec384.pub.pem").decode())
    write(out, "hs.key", SECRET + b"\n")
    write(out, "hs_crlf.key", SECRET + b"\r\n")
    write(out, "hs_short.key", SECRET[:31] + b"\n")
    write(out, "pem_as_secret.key", read(out, "rsa.pub.pem"))
    # A P-256 key whose x has a leading zero byte, which PyJWT 2.6's to_jwk
    # drops (about one key in 256): the C side must pad it back.
    while True:
        short = ec.generate_private_key(ec.SECP256R1())
        if short.public_key().public_numbers().x < 1 << 248:
            return short


def read(out, name):
    with open(f"{out}/{name}", "rb") as f:
        return f.read()


def write(out, name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)


def private(out, name):
    return serialization.load_pem_private_key(read(out, name + ".pem"), None)


def jwk(cls, key, **extra):
    d = json.loads(cls.to_jwk(key))
    d.update(extra)
    return d


def make_jwks(out, short):
    rsa_pub = private(out, "rsa").public_key()
    keys = [jwk(RSAAlgorithm, rsa_pub, kid="rsa1", use="sig"),
            jwk(ECAlgorithm, private(out, "ec256").public_key(), kid="ec256", alg="ES256"),
            jwk(ECAlgorithm, private(out, "ec384").public_key(), kid="ec384"),
            jwk(ECAlgorithm, private(out, "ec521").public_key(), kid="ec521", key_ops=["verify"]),
            jwk(RSAAlgorithm, rsa_pub, kid="rs256only", alg="RS256"),
            jwk(RSAAlgorithm, rsa_pub, kid="enc1", use="enc", alg="RSA-OAEP"),
            jwk(RSAAlgorithm, rsa_pub, kid="ops1", key_ops=["encrypt"]),
            jwk(ECAlgorithm, short.public_key(), kid="short")]
    assert len(base64.urlsafe_b64decode(keys[-1]["x"] + "==")) < 32
    files = {
        "jwks.json": {"keys": keys},
        "jwks_private.json": {"keys": [keys[0], jwk(RSAAlgorithm, private(out, "rsa"), kid="p")]},
        "jwks_okp.json": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64(b"x" * 32)}]},
        "jwks_badalg.json": {"keys": [dict(keys[0], alg="HS256")]},
        "jwks_curvealg.json": {"keys": [dict(keys[1], alg="ES384")]},
        "jwks_onlyenc.json": {"keys": [keys[5]]},
        "jwks_small.json": {"keys": [jwk(RSAAlgorithm, private(out, "rsa1024").public_key())]},
        "jwks_nokeys.json": {"kid": "x"},
        "jwks_huge.json": {"keys": [{"kty": "RSA", "n": b64(b"\xff" * 1100), "e": "AQAB"}]},
    }
    for name, doc in files.items():
        write(out, name, json.dumps(doc, indent=1).encode())
    write(out, "jwks_dup.json", b'{"keys": [], "keys": []}')


def forge(header, payload, sign):
    """A token from raw header and payload JSON text, signed by sign(input)."""
    signing_input = (b64(header.encode()) + "." + b64(payload.encode())).encode()
    return signing_input.decode() + "." + b64(sign(signing_input))


def hs256(key):
    return lambda data: hmac.new(key, data, hashlib.sha256).digest()


def es512_with_p256(key):
    def sign(data):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA512())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return sign


def tamper(token):
    """The same token with another payload, and with one signature bit flipped."""
    h, p, s = token.split(".")
    other = b64(json.dumps(dict(BASE, sub="mallory")).encode())
    sig = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    sig[5] ^= 1
    return f"{h}.{other}.{s}", f"{h}.{p}.{b64(bytes(sig))}"


def sized(total):
    """An HS256 token of exactly total characters."""
    for kid in range(0, 8):
        for pad in range(total * 3 // 4 - 320, total * 3 // 4 - 120):
            t = jwt.encode(dict(BASE, pad="x" * pad), SECRET, algorithm="HS256",
                           headers={"kid": "k" * kid} if kid else None)
            if len(t) == total:
                return t
    raise SystemExit(f"no token of {total} characters")


def make_tokens(out, short):
    rsa, rsa2 = read(out, "rsa.pem"), read(out, "rsa2.pem")
    ec256, ec384, ec521 = private(out, "ec256"), private(out, "ec384"), private(out, "ec521")
    enc = lambda claims, key, alg, **h: jwt.encode(claims, key, algorithm=alg, headers=h or None)
    t = {}
    for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        t[alg] = enc(BASE, rsa, alg, kid="rsa1")
    t["ES256"] = enc(BASE, ec256, "ES256", kid="ec256")
    t["ES384"] = enc(BASE, ec384, "ES384", kid="ec384")
    t["ES512"] = enc(BASE, ec521, "ES512", kid="ec521")
    for alg in ("HS256", "HS384", "HS512"):
        t[alg] = enc(BASE, SECRET, alg)
    t["pem_RS256"] = enc(BASE, rsa2, "RS256")
    t["pem_PS512"] = enc(BASE, rsa2, "PS512", kid="not-in-any-jwks")
    t["pem_ES384"] = enc(BASE, ec384, "ES384")
    t["short_ES256"] = enc(BASE, short, "ES256", kid="short")
    t["kid_unknown"] = enc(BASE, rsa, "RS256", kid="nope")
    t["kid_of_ec"] = enc(BASE, rsa, "RS256", kid="ec256")
    t["ps256_rs256only"] = enc(BASE, rsa, "PS256", kid="rs256only")
    t["rs256_rs256only"] = enc(BASE, rsa, "RS256", kid="rs256only")
    t["enc_kid"] = enc(BASE, rsa, "RS256", kid="enc1")
    t["ops_kid"] = enc(BASE, rsa, "RS256", kid="ops1")
    t["none"] = enc(BASE, None, "none")
    base = json.dumps(BASE)
    t["hs256_lower"] = forge('{"alg":"hs256"}', base, hs256(SECRET))
    # Algorithm confusion: HS256 keyed with a public key's PEM bytes.
    t["confused"] = forge('{"alg":"HS256","typ":"JWT"}', base, hs256(read(out, "rsa.pub.pem")))
    t["confused_pem2"] = forge('{"alg":"HS256"}', base, hs256(read(out, "rsa2.pub.pem")))
    t["es512_p256"] = forge('{"alg":"ES512","kid":"ec256"}', base, es512_with_p256(ec256))
    t["es512_p256_nokid"] = forge('{"alg":"ES512"}', base, es512_with_p256(ec256))
    for alg in ("RS256", "PS256", "ES256", "HS256"):
        t["tampered_payload_" + alg], t["tampered_sig_" + alg] = tamper(t[alg])
    hs = lambda claims: enc(claims, SECRET, "HS256")
    drop = lambda *names: {k: v for k, v in BASE.items() if k not in names}
    t["nbf_only"] = hs(dict(drop("iat"), nbf=NOW + 100))
    t["iat_only"] = hs(dict(drop("nbf"), iat=NOW + 100))
    t["exp_real"] = hs(dict(BASE, exp=NOW + 0.5))
    t["no_exp"] = hs(drop("exp"))
    t["no_sub"] = hs(drop("sub"))
    t["iss_missing"] = hs(drop("iss"))
    t["iss_wrong"] = hs(dict(BASE, iss="https://other.example"))
    t["iss_number"] = hs(dict(BASE, iss=5))
    t["aud_array"] = hs(dict(BASE, aud=["other", "herald"]))
    t["aud_array_miss"] = hs(dict(BASE, aud=["other"]))
    t["aud_missing"] = hs(drop("aud"))
    t["aud_number"] = hs(dict(BASE, aud=7))
    t["aud_array_number"] = hs(dict(BASE, aud=["herald", 1]))
    t["exp_string"] = hs(dict(BASE, exp=str(NOW + 600)))
    t["nbf_bool"] = hs(dict(BASE, nbf=True))
    t["iat_null"] = hs(dict(BASE, iat=None))
    t["sub_number"] = hs(dict(BASE, sub=42))
    t["topics_string"] = hs(dict(BASE, topics="news.*"))
    t["topics_nested"] = hs(dict(drop("topics"), herald={"topics": ["chat.*", "user.>"]}))
    t["topics_not_object"] = hs(dict(drop("topics"), herald="chat.*"))
    t["topics_number"] = hs(dict(BASE, topics=5))
    t["topics_array_number"] = hs(dict(BASE, topics=["news.*", 5]))
    t["topics_object"] = hs(dict(BASE, topics={"news.*": True}))
    t["topics_malformed"] = hs(dict(BASE, topics=["news.*x"]))
    t["topics_gt_middle"] = hs(dict(BASE, topics=["a.>.b"]))
    t["topics_empty"] = hs(dict(BASE, topics=[]))
    t["no_topics"] = hs(drop("topics"))
    sign = hs256(SECRET)
    t["dup_header"] = forge('{"alg":"HS256","alg":"HS256"}', base, sign)
    t["dup_claim"] = forge('{"alg":"HS256"}', '{"sub":"alice","sub":"mallory"}', sign)
    t["crit"] = forge('{"alg":"HS256","crit":["exp"],"exp":1}', base, sign)
    t["kid_number"] = forge('{"alg":"HS256","kid":5}', base, sign)
    t["alg_missing"] = forge('{"typ":"JWT"}', base, sign)
    t["alg_number"] = forge('{"alg":256}', base, sign)
    t["header_array"] = forge('["HS256"]', base, sign)
    t["claims_array"] = forge('{"alg":"HS256"}', '["alice"]', sign)
    t["claims_not_json"] = forge('{"alg":"HS256"}', '{"sub":', sign)
    t["max_size"] = sized(8192)
    t["over_size"] = sized(8193)
    return t


def self_check(out, t):
    """PyJWT agrees with what the C test expects of a few tokens."""
    rsa_pub = private(out, "rsa").public_key()
    for alg in ("RS256", "PS384", "ES512", "HS512"):
        key = {"R": rsa_pub, "P": rsa_pub, "E": private(out, "ec521").public_key(),
               "H": SECRET}[alg[0]]
        claims = jwt.decode(t[alg], key, algorithms=[alg], audience="herald",
                            issuer="https://issuer.example", options={"verify_exp": False,
                                                                      "verify_iat": False,
                                                                      "verify_nbf": False})
        assert claims["sub"] == "alice", alg
    try:
        jwt.decode(t["tampered_payload_RS256"], rsa_pub, algorithms=["RS256"],
                   options={"verify_exp": False})
        raise SystemExit("PyJWT accepted a tampered token")
    except jwt.InvalidSignatureError:
        pass


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: auth_tokens.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    short = make_keys(out)
    make_jwks(out, short)
    tokens = make_tokens(out, short)
    self_check(out, tokens)
    with open(f"{out}/manifest", "w") as f:
        f.write(f"now {NOW}\n")
        for name, token in tokens.items():
            f.write(f"{name} {token}\n")
    print(f"auth_tokens.py: {len(tokens)} tokens in {out}")


if __name__ == "__main__":
    main()
