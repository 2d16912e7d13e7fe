"""The Microsoft identity platform: OpenID configuration and the client-credentials token endpoint."""
