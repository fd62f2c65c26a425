"""Pull connectors: the interface (base), one implementation per Connector.kind, and the pull service.

Importing this package registers every implementation, so `connector_for` knows all kinds.
"""

from . import jd, json_feed, taobao  # noqa: F401  (registers the implementations)
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
