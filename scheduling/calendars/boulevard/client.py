"""A thin client for Boulevard's Client API (GraphQL) through gql's requests transport.

The URL and the auth are the SDK's (src/platformClient.ts): POST to
`{BOULEVARD_API_URL}/{business id}/client` with HTTP Basic `apiKey:` (empty password).
The documents live in operations.graphql, parsed once; each call names its operation.

Failures come out as two exceptions:
- BoulevardDown: no answer, a timeout, a 5xx/429, or an answer that is not GraphQL. The
  request may or may not have landed; reads are retried once at once, writes are the
  caller's decision (a checkout is retried on the same cart, which Boulevard completes once).
- BoulevardRefused: Boulevard answered with GraphQL errors (a time no longer free, a bad id).
"""

import logging
import threading
import time
from pathlib import Path

import requests
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.requests import RequestsHTTPTransport
from requests.auth import HTTPBasicAuth

logger = logging.getLogger(__name__)

DOCUMENT = gql((Path(__file__).parent / "operations.graphql").read_text())
READS = frozenset({
    "GetLocations", "CartAvailableCategories", "CartStaffVariants", "CartBookableDates", "CartBookableTimes",
    "Appointment", "AppointmentRescheduleAvailableTimes",
})


class BoulevardDown(Exception):
    """Boulevard did not answer usefully; whether a write landed is unknown."""


class BoulevardRefused(Exception):
    """Boulevard answered with GraphQL errors."""

    def __init__(self, errors):
        self.errors = list(errors or [])
        super().__init__("; ".join(str(error.get("message", error)) for error in self.errors) or "refused")

    @property
    def codes(self):
        return {str((error.get("extensions") or {}).get("code", "")) for error in self.errors}


class BoulevardClient:
    """One client per thread (requests sessions are not shared across threads)."""

    def __init__(self, *, api_url, business_id, api_key, timeout=10.0):
        self.url = f"{api_url.rstrip('/')}/{business_id}/client"
        self._api_key = api_key
        self._timeout = timeout
        self._local = threading.local()
        # Seconds spent waiting on Boulevard by this thread (the availability bench subtracts it).
        self.waited = 0.0
        self.calls = 0

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            transport = RequestsHTTPTransport(
                url=self.url, auth=HTTPBasicAuth(self._api_key, ""), timeout=self._timeout, retries=0,
            )
            session = Client(transport=transport, fetch_schema_from_transport=False).connect_sync()
            self._local.session = session
        return session

    def execute(self, operation, variables=None):
        """Run one named operation and return its `data`; retries a read once when Boulevard was down."""
        attempts = 2 if operation in READS else 1
        for attempt in range(attempts):
            try:
                return self._execute_once(operation, variables)
            except BoulevardDown:
                if attempt == attempts - 1:
                    raise
                logger.info("Boulevard %s failed; retrying once", operation)
        raise AssertionError("unreachable")

    def _execute_once(self, operation, variables):
        request = GraphQLRequest(DOCUMENT, variable_values=variables or {}, operation_name=operation)
        started = time.perf_counter()
        try:
            return self._session().execute(request)
        except TransportQueryError as error:
            raise BoulevardRefused(error.errors) from error
        except TransportServerError as error:
            if error.code is not None and 400 <= error.code < 500 and error.code not in (408, 429):
                # A refused key or a malformed request will not get better by retrying.
                raise BoulevardRefused([{"message": f"HTTP {error.code}", "extensions": {"code": f"HTTP_{error.code}"}}]) from error
            raise BoulevardDown(f"{operation}: HTTP {error.code}") from error
        except (requests.RequestException, OSError, TransportProtocolError, TransportConnectionFailed) as error:
            self._local.session = None  # a broken connection is not reused
            raise BoulevardDown(f"{operation}: {error}") from error
        finally:
            self.waited += time.perf_counter() - started
            self.calls += 1
