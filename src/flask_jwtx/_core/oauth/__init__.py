"""Private implementation of flask-jwtx; import from flask_jwtx."""
