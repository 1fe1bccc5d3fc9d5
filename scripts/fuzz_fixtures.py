"""Fixtures for scripts/schemathesis.sh, made through the API itself.

Signs in one user per role (the administrator, the seeded manager and officer, and a newly
registered customer), publishes a product with a file, and has the customer buy it through
the development gateway, so that fuzzed requests find real rows. Writes each role's sign-in
as shell assignments (EMAIL_ADMIN=..., PASSWORD_ADMIN=...) to the given file: schemathesis
signs in itself, and again whenever a fuzzed request (say, a logout) ended the session.

Usage: fuzz_fixtures.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD OUT_FILE
"""

import json
import sys
import urllib.request
import uuid

DEMO_PASSWORD = "demo-password-123"


def call(base, method, path, body=None, token=None, headers=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def main():
    base, admin_email, admin_password, out = sys.argv[1:5]
    login = lambda email, password: call(
        base, "POST", "/api/v1/auth/login", {"email": email, "password": password}
    )["access_token"]
    accounts = {
        "ADMIN": (admin_email, admin_password),
        "MANAGER": ("manager@nexus.local", DEMO_PASSWORD),
        "CSO": ("cso1@nexus.local", DEMO_PASSWORD),
        "EDITOR": ("editor@nexus.local", DEMO_PASSWORD),
        "CUSTOMER": ("fuzz-customer@example.com", "fuzz-customer-password"),
    }
    email, password = accounts["CUSTOMER"]
    call(
        base,
        "POST",
        "/api/v1/auth/register",
        {"email": email, "password": password, "firstName": "Fuzz", "lastName": "Customer"},
    )
    tokens = {role: login(*account) for role, account in accounts.items()}

    admin = tokens["ADMIN"]
    product = call(
        base,
        "POST",
        "/api/v1/products",
        {"slug": "fuzz-guide", "title": "Fuzz guide", "priceMinor": 49900, "category": "guides"},
        token=admin,
    )
    boundary = uuid.uuid4().hex
    form = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"guide.pdf\"\r\n"
        f"Content-Type: application/pdf\r\n\r\n%PDF-1.4 fuzz\r\n--{boundary}--\r\n"
    ).encode()
    call(
        base,
        "POST",
        f"/api/v1/products/{product['id']}/asset",
        token=admin,
        raw=form,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    call(base, "POST", f"/api/v1/products/{product['id']}/publish", token=admin)

    customer = tokens["CUSTOMER"]
    call(base, "POST", "/api/v1/cart/items", {"productId": product["id"]}, token=customer)
    order = call(base, "POST", "/api/v1/checkout", token=customer)
    call(base, "POST", "/api/v1/payments/dev/complete", {"orderId": order["orderId"]}, token=customer)

    with open(out, "w", encoding="utf-8") as f:
        for role, (email, password) in accounts.items():
            f.write(f"EMAIL_{role}={email}\nPASSWORD_{role}={password}\n")


if __name__ == "__main__":
    main()
