// A local OpenID Connect provider for the sign-in tests: oauth2-mock-server (its library
// API) on 127.0.0.1 with a random port, whose ID tokens carry the claims each sign-in asks for.
//
// Usage: node scripts/oidc_provider.mjs <path to oauth2-mock-server/dist/index.mjs>
// Prints one JSON line once ready: {"issuer": "http://127.0.0.1:<port>", "control": "http://127.0.0.1:<port>"}.
//
// - Claims per sign-in: query parameters `claim_<name>=<value>` added to the authorize URL are
//   set on the tokens issued for the code that authorization returns (`true`/`false` become
//   booleans), e.g. `claim_sub=abc&claim_email=a@example.com&claim_email_verified=false`,
//   or `claim_nonce=other` to send a nonce the client did not ask for.
// - Key rotation: `POST {control}/keys` adds a new RS256 signing key (keys then take turns
//   signing, as the library does) and answers `{"kid": "..."}`.
import http from "node:http";
import { pathToFileURL } from "node:url";

const modulePath = process.argv[2];
const { OAuth2Server } = await import(pathToFileURL(modulePath).href);

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");
await server.start(0, "127.0.0.1");
server.issuer.url = `http://127.0.0.1:${server.address().port}`;

const claimsByCode = new Map();
const parse = (value) => (value === "true" ? true : value === "false" ? false : value);

server.service.on("beforeAuthorizeRedirect", (redirect, req) => {
  const code = redirect.url.searchParams.get("code");
  const claims = {};
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (key.startsWith("claim_") && typeof value === "string") {
      claims[key.slice("claim_".length)] = parse(value);
    }
  }
  if (code) claimsByCode.set(code, claims);
});

server.service.on("beforeTokenSigning", (token, req) => {
  const claims = claimsByCode.get(req.body?.code);
  if (claims) Object.assign(token.payload, claims);
});

const control = http.createServer(async (req, res) => {
  if (req.method === "POST" && req.url === "/keys") {
    const key = await server.issuer.keys.generate("RS256");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ kid: key.kid }));
    return;
  }
  res.statusCode = 404;
  res.end();
});

control.listen(0, "127.0.0.1", () => {
  const ready = {
    issuer: server.issuer.url,
    control: `http://127.0.0.1:${control.address().port}`,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
});

// Ends with the test process that started it (stdin closes).
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
