"""Facades over flask-jwtx for users of other JWT extensions.

* :mod:`flask_jwtx.compat.flask_pyjwt`: Flask_PyJWT 1.0's API.
"""
