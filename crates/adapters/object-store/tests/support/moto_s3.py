"""moto's S3 server for nexus-object-store's tests, plus the presigned-URL checks moto leaves out.

moto (5.x) serves every presigned request: it checks neither the expiry nor the signature of
query-string-signed URLs. This script runs moto's own WSGI app and puts a SigV4 query-auth
verifier in front of it, written from AWS's "Authenticating Requests: Using Query Parameters"
and independent of the Rust signer under test. A request that carries X-Amz-Signature is
refused with 403 when expired (AccessDenied, "Request has expired") or when its signature
does not match (SignatureDoesNotMatch), as S3 does; anything else (header-signed API calls
from the store itself, the test's bucket creation) goes to moto unchanged.

    python moto_s3.py --host 127.0.0.1 --port PORT --access-key-id ID --secret SECRET

Prints "ready" on stdout once it accepts connections.
"""

import argparse
import hashlib
import hmac
import logging
import os
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, quote, urlsplit

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

ALGORITHM = "AWS4-HMAC-SHA256"


def uri_encode(value):
    # SigV4: encode everything but the unreserved characters A-Z a-z 0-9 - . _ ~
    return quote(value, safe="-._~")


def header_value(environ, name):
    if name == "host":
        return environ.get("HTTP_HOST", "")
    if name in ("content-type", "content-length"):
        return environ.get(name.upper().replace("-", "_"), "")
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def refusal(code, message):
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    return "403 Forbidden", body


def check_presigned(environ, access_key_id, secret, now):
    """None if the request is not presigned or passes; else (status, body)."""
    query = environ.get("QUERY_STRING", "")
    pairs = parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    if "X-Amz-Signature" not in params:
        return None
    try:
        if params["X-Amz-Algorithm"] != ALGORITHM:
            return refusal("AuthorizationQueryParametersError", "Unsupported algorithm")
        key_id, date, region, service, terminator = params["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
            tzinfo=timezone.utc
        )
        expires = int(params["X-Amz-Expires"])
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
    except (KeyError, ValueError):
        return refusal("AuthorizationQueryParametersError", "Malformed query authentication")
    if key_id != access_key_id:
        return refusal("InvalidAccessKeyId", "The access key id does not exist")
    if now > signed_at + timedelta(seconds=expires):
        return refusal("AccessDenied", "Request has expired")

    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ["PATH_INFO"])
    canonical_uri = urlsplit(raw_uri).path
    canonical_query = "&".join(
        f"{k}={v}"
        for k, v in sorted(
            (uri_encode(k), uri_encode(v)) for k, v in pairs if k != "X-Amz-Signature"
        )
    )
    canonical_headers = "".join(
        f"{name}:{' '.join(header_value(environ, name).split())}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [
            environ["REQUEST_METHOD"],
            canonical_uri,
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            "UNSIGNED-PAYLOAD",
        ]
    )
    scope = "/".join([date, region, service, terminator])
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            params["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, terminator):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return refusal(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided",
        )
    return None


def verifying(app, access_key_id, secret):
    def wrapped(environ, start_response):
        refused = check_presigned(environ, access_key_id, secret, datetime.now(timezone.utc))
        if refused is None:
            return app(environ, start_response)
        status, body = refused
        start_response(
            status,
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--access-key-id", required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()

    # moto builds some URLs from this, as its own entry point sets it.
    os.environ.setdefault("MOTO_PORT", str(args.port))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = verifying(
        DomainDispatcherApplication(create_backend_app), args.access_key_id, args.secret
    )
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
