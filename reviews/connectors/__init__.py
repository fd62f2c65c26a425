"""Pull connectors: the interface (base), one implementation per Connector.kind, and the pull service.

Importing this package registers every implementation, so `connector_for` knows all kinds.
"""

from . import json_feed  # noqa: F401  (registers the JSON feed connector)
from .base import (
    AuthError,
    BaseConnector,
    ConnectorConfigError,
    ConnectorError,
    HttpStatusError,
    Page,
    PageRejected,
    PayloadError,
    RateLimited,
    TransportError,
    connector_for,
    register,
    registered_kinds,
)

__all__ = [
    "AuthError",
    "BaseConnector",
    "ConnectorConfigError",
    "ConnectorError",
    "HttpStatusError",
    "Page",
    "PageRejected",
    "PayloadError",
    "RateLimited",
    "TransportError",
    "connector_for",
    "register",
    "registered_kinds",
]
