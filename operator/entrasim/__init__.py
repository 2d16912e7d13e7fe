"""entrasim: a local emulator of Microsoft Graph, the Entra token endpoint and the CTS provisioning service."""

__version__ = "0.1.0"
