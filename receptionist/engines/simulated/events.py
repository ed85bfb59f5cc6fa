"""What every event needs: ids in OpenAI's shape, and the errors that become `error` events."""

import secrets


def new_id(prefix):
    return f"{prefix}_{secrets.token_hex(8)}"


class RealtimeError(Exception):
    def __init__(self, code, message, *, param=None, type="invalid_request_error"):
        super().__init__(message)
        self.code, self.message, self.param, self.type = code, message, param, type


class ResponseEnded(Exception):
    """Ends a response unfinished, as OpenAI can: status `failed` or `incomplete`, with its status_details."""

    def __init__(self, status, details):
        super().__init__(status)
        self.status, self.details = status, details

