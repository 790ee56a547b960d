// A certified OpenID provider (panva's oidc-provider) set up like a Keycloak realm, for the
// gateway's SSO tests. Every user's realm roles travel as `realm_access.roles` in the ID
// token and from the userinfo endpoint, as Keycloak sends them by default.
//
// Configuration comes as JSON in OIDC_TEST_CONFIG:
//   { "port": 8080,
//     "clients": [{ "client_id", "client_secret", "redirect_uris": [...] }],
//     "users": { "alice": { "roles": ["AI_ADMIN"], "email": "alice@example.test" } } }
// Sign-in uses the provider's own login page (any password; the user must exist). Consent
// is given automatically, as for a first-party client in Keycloak.
import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG || "{}");
const port = Number(config.port);
const users = config.users || {};
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: (config.clients || []).map((client) => ({
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_post",
    ...client,
  })),
  // Keycloak's default client scopes release the realm roles without asking for a scope.
  claims: {
    openid: ["sub", "realm_access"],
    email: ["email", "email_verified"],
    profile: ["preferred_username", "name"],
  },
  conformIdTokenClaims: false, // claims in the ID token too, like Keycloak
  findAccount: async (_ctx, id) => {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      claims: async () => ({
        sub: id,
        preferred_username: id,
        name: id,
        email: user.email || `${id}@example.test`,
        email_verified: true,
        realm_access: { roles: user.roles || [] },
      }),
    };
  },
  loadExistingGrant: async (ctx) => {
    const known = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (known) return ctx.oidc.provider.Grant.find(known);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || "openid");
    await grant.save();
    return grant;
  },
  features: { devInteractions: { enabled: true } },
});

provider.on("server_error", (_ctx, error) => console.error("server_error", error));
const server = provider.listen(port, "127.0.0.1", () => console.log(`oidc-provider listening on ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
