"""Mint a roomcast subscriber token with Python's standard library alone (no JWT package).

Usage: ROOMCAST_TOKEN_SECRET=... python3 mint_token.py standup,retro [ttl_seconds] [user_id]

The token is a JWT (RFC 7519) signed with HS256: base64url(header) "." base64url(claims) "."
base64url(HMAC-SHA256(secret, those two joined by ".")), without "=" padding. See docs/tokens.md.
(Run by test/token-spec.test.ts against a real roomcast server.)
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(secret: str, rooms: list[str], ttl: int = 900, sub: str | None = None) -> str:
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {"rooms": rooms, "iat": now, "exp": now + ttl}
    if sub is not None:
        claims["sub"] = sub
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, claims)
    )
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256)
    return f"{signing_input}.{b64url(signature.digest())}"


if __name__ == "__main__":
    secret = os.environ["ROOMCAST_TOKEN_SECRET"].split(",")[0].strip()
    rooms = sys.argv[1].split(",")
    ttl = int(sys.argv[2]) if len(sys.argv) > 2 else 900
    sub = sys.argv[3] if len(sys.argv) > 3 else None
    print(mint(secret, rooms, ttl, sub))
