"""The public functions of ``flask_jwt_extended.utils``, from flask-jwtx.

For code written against Flask-JWT-Extended's module layout, e.g.
``from flask_jwt_extended.utils import get_jwt``. Each name is flask-jwtx's
own function (the same object ``flask_jwtx`` exports), re-exported here.
"""

from ._core.web.context import current_user as current_user
from ._core.web.context import current_user_context_processor as current_user_context_processor
from ._core.web.context import get_current_user as get_current_user
from ._core.web.context import get_jwt as get_jwt
from ._core.web.context import get_jwt_header as get_jwt_header
from ._core.web.context import get_jwt_identity as get_jwt_identity
from ._core.web.context import get_jwt_request_location as get_jwt_request_location
from ._core.web.cookies import set_access_cookies as set_access_cookies
from ._core.web.cookies import set_refresh_cookies as set_refresh_cookies
from ._core.web.cookies import unset_access_cookies as unset_access_cookies
from ._core.web.cookies import unset_jwt_cookies as unset_jwt_cookies
from ._core.web.cookies import unset_refresh_cookies as unset_refresh_cookies
from ._core.web.creation import create_access_token as create_access_token
from ._core.web.creation import create_refresh_token as create_refresh_token
from ._core.web.decoding import decode_token as decode_token
from ._core.web.decoding import get_csrf_token as get_csrf_token
from ._core.web.decoding import get_jti as get_jti
from ._core.web.decoding import get_unverified_jwt_headers as get_unverified_jwt_headers
from .config import config as config
from .internal_utils import get_jwt_manager as get_jwt_manager
from .typing import ExpiresDelta as ExpiresDelta
from .typing import Fresh as Fresh
