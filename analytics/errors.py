"""The analytics API's own errors (generic ones come from core.errors)."""

from core.errors import ErrorType

USER_EXISTS = ErrorType("USER_EXISTS", 409, "User already exists")
USER_NOT_FOUND = ErrorType("USER_NOT_FOUND", 404, "No data is stored for this user_id")
INVALID_TRANSITION = ErrorType("INVALID_TRANSITION", 409, "This status change is not allowed")
# One answer for a missing secret, a wrong one, an unknown user_id and an install without a secret,
# so that these requests do not tell which ids exist.
INSTALL_PROOF_REQUIRED = ErrorType(
    "INSTALL_PROOF_REQUIRED",
    401,
    "Send the install secret that POST /users/register returned in the X-Install-Secret header. "
    "Installs without one ask staff (see the analytics documentation).",
)
