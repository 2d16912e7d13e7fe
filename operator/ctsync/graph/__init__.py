"""Microsoft Graph access: clouds, credentials, the client (msgraph-sdk transport), error mapping, CTS calls."""
