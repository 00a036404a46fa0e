"""``JWTManager`` under the module path ``flask_jwt_extended.jwt_manager`` used.

For code written against Flask-JWT-Extended's module layout, e.g.
``from flask_jwt_extended.jwt_manager import JWTManager`` (common in type
hints). The other names Flask-JWT-Extended's module happens to import are
re-exported too, so ``from ...jwt_manager import <name>`` keeps working.
"""

from ._core.web.context import current_user_context_processor as current_user_context_processor
from ._core.web.extension import JWTManager as JWTManager
from .config import config as config
from .default_callbacks import (
    default_additional_claims_callback as default_additional_claims_callback,
)
from .default_callbacks import default_blocklist_callback as default_blocklist_callback
from .default_callbacks import default_decode_key_callback as default_decode_key_callback
from .default_callbacks import default_encode_key_callback as default_encode_key_callback
from .default_callbacks import default_expired_token_callback as default_expired_token_callback
from .default_callbacks import default_invalid_token_callback as default_invalid_token_callback
from .default_callbacks import default_jwt_headers_callback as default_jwt_headers_callback
from .default_callbacks import (
    default_needs_fresh_token_callback as default_needs_fresh_token_callback,
)
from .default_callbacks import default_revoked_token_callback as default_revoked_token_callback
from .default_callbacks import (
    default_token_verification_callback as default_token_verification_callback,
)
from .default_callbacks import (
    default_token_verification_failed_callback as default_token_verification_failed_callback,
)
from .default_callbacks import default_unauthorized_callback as default_unauthorized_callback
from .default_callbacks import default_user_identity_callback as default_user_identity_callback
from .default_callbacks import (
    default_user_lookup_error_callback as default_user_lookup_error_callback,
)
from .exceptions import CSRFError as CSRFError
from .exceptions import FreshTokenRequired as FreshTokenRequired
from .exceptions import InvalidHeaderError as InvalidHeaderError
from .exceptions import InvalidQueryParamError as InvalidQueryParamError
from .exceptions import JWTDecodeError as JWTDecodeError
from .exceptions import NoAuthorizationError as NoAuthorizationError
from .exceptions import RevokedTokenError as RevokedTokenError
from .exceptions import UserClaimsVerificationError as UserClaimsVerificationError
from .exceptions import UserLookupError as UserLookupError
from .exceptions import WrongTokenError as WrongTokenError
from .tokens import _decode_jwt as _decode_jwt
from .tokens import _encode_jwt as _encode_jwt
from .typing import ExpiresDelta as ExpiresDelta
from .typing import Fresh as Fresh
