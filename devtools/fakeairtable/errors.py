"""The error a request ends with, and the messages the real API words (shared by the modules
that refuse requests: server.py, writes.py, webhooks.py)."""

from __future__ import annotations

from typing import Any

MSG_AUTH = "Authentication required"
MSG_PERMISSIONS = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct."
)
MSG_RATE = "Rate limit exceeded. Please try again later"
MSG_BILLING = (
    "There are no more API calls available for this billing period. Please upgrade your plan "
    "or wait for the next billing period."
)
MSG_PARAMS = "Invalid request: parameter validation failed. Check your request data."
MSG_TOO_MANY_RECORDS = "You must provide an array of up to 10 record objects."


class ApiError(Exception):
    """Answer the request with ``status`` and ``{"error": {"type", "message"?}}``."""

    def __init__(self, status: int, error_type: str, message: str | None = None):
        super().__init__(error_type)
        self.status = status
        self.error_type = error_type
        self.message = message

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type}
        if self.message is not None:
            error["message"] = self.message
        return {"error": error}


def permission_denied() -> ApiError:
    """403 for a missing base or table, a token without the scope, a read-only base."""
    return ApiError(403, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", MSG_PERMISSIONS)


def bad_request(message: str = MSG_PARAMS) -> ApiError:
    return ApiError(422, "INVALID_REQUEST_UNKNOWN", message)


def record_not_found(record_id: str) -> ApiError:
    return ApiError(404, "MODEL_ID_NOT_FOUND", f"Could not find a record with ID {record_id}")
