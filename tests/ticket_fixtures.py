"""The ticket fixtures of test_ticket_actions_api, for the issue-4 test modules.

Star-imported (`from .ticket_fixtures import *`) so pytest finds them while the linter does not
take each fixture argument for a redefinition of an imported name.
"""

from .test_ticket_actions_api import closed_ticket, colleague, pool_ticket, publish, supervisor_b, ticket

__all__ = ["closed_ticket", "colleague", "pool_ticket", "publish", "supervisor_b", "ticket"]
