// A real OAuth 2.0 authorization server for tests/test_oidc_provider.py: oidc-provider
// on loopback, with client credentials, resource indicators issuing JWT access tokens
// (RFC 9068), and DPoP-bound tokens (RFC 9449).
//
// It listens on an ephemeral port of 127.0.0.1 and prints one JSON line once it is
// ready: {"issuer": "http://127.0.0.1:<port>"}. It stops when its standard input closes
// (the test process ended) or on SIGTERM.
//
// Environment: RESOURCE (the resource indicator of the API under test), OTHER_RESOURCE
// (a second API, whose tokens the first must refuse), OPAQUE_RESOURCE (an API that gets
// opaque tokens, verified by introspection), CLIENT_ID, CLIENT_SECRET.
import * as http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const RESOURCE = process.env.RESOURCE ?? 'https://api.test/';
const OTHER_RESOURCE = process.env.OTHER_RESOURCE ?? 'https://other.test/';
const OPAQUE_RESOURCE = process.env.OPAQUE_RESOURCE ?? 'https://opaque.test/';
const CLIENT_ID = process.env.CLIENT_ID ?? 'api-client';
const CLIENT_SECRET = process.env.CLIENT_SECRET ?? 'a-client-secret-for-tests-only-0123456789';
const SCOPES = 'orders:read orders:write';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
        scope: SCOPES,
      },
    ],
    jwks: { keys: [signingKey] },
    scopes: SCOPES.split(' '),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      dPoP: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (resourceIndicator === OPAQUE_RESOURCE) {
            return {
              scope: SCOPES, audience: OPAQUE_RESOURCE, accessTokenTTL: 300, accessTokenFormat: 'opaque',
            };
          }
          if (resourceIndicator !== RESOURCE && resourceIndicator !== OTHER_RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: SCOPES,
            audience: resourceIndicator,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
