"""``python -m demo [--port N] [--db PATH] [--check]``: serve the demo API on 127.0.0.1.

With ``--check``, build the same app, walk one login through it on a real
server, print each step and exit 0 or 1 (``demo/check.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .app import DEMO_USERS, create_app

#: The header-mode walkthrough: bash, curl and python3 (to read tokens out of
#: the JSON answers), pasted line by line. tests/test_demo.py runs it as
#: printed and checks every answer, the comments' included.
HEADER_MODE = """\
  # Two helpers: log alice in (the answer, a token pair, goes to $PAIR), and
  # print one token of $PAIR.
  log_in() {{ PAIR=$(curl -s -X POST localhost:{port}/login -H 'Content-Type: application/json' \\
                 -d '{{"username": "alice", "password": "wonderland"}}'); }}
  token() {{ python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' \\
                "$PAIR" "$1"; }}

  log_in; ACCESS=$(token access_token); REFRESH=$(token refresh_token)
  curl -s localhost:{port}/me -H "Authorization: Bearer $ACCESS"              # fresh: true
  curl -s -X POST localhost:{port}/password -H "Authorization: Bearer $ACCESS" # fresh only
  OLD=$REFRESH; PAIR=$(curl -s -X POST localhost:{port}/refresh -H "Authorization: Bearer $OLD")
  ACCESS=$(token access_token); REFRESH=$(token refresh_token)               # the new pair
  curl -s localhost:{port}/me -H "Authorization: Bearer $ACCESS"              # fresh: false
  curl -s -X POST localhost:{port}/refresh -H "Authorization: Bearer $OLD"     # reuse: 401,
  curl -s localhost:{port}/me -H "Authorization: Bearer $ACCESS"              # and it ended
  #   the login: its new pair is refused too (the demo's JWT_REFRESH_REUSE_GRACE is 0 s)

  log_in; ACCESS=$(token access_token); REFRESH=$(token refresh_token)       # log in again
  curl -s -X POST localhost:{port}/logout -H "Authorization: Bearer $ACCESS"   # ends the login:
  curl -s -X POST localhost:{port}/refresh -H "Authorization: Bearer $REFRESH" # 401 now

  log_in; ACCESS=$(token access_token)                                       # once more
  curl -s -X POST localhost:{port}/logout/everywhere -H "Authorization: Bearer $ACCESS"
"""

#: Cookie mode with curl: the cookie jar holds the tokens, the CSRF header
#: repeats the CSRF cookie (double submit).
COOKIE_MODE = """\
  curl -s -c jar -X POST localhost:{port}/login/cookies -H 'Content-Type: application/json' \\
       -d '{{"username": "alice", "password": "wonderland"}}'
  curl -s -b jar localhost:{port}/me
  curl -s -b jar -X POST localhost:{port}/password \\
       -H "X-CSRF-TOKEN: $(awk '/csrf_access_token/ {{print $7}}' jar)"
"""

WALKTHROUGH = f"""\
flask-jwtx demo on http://127.0.0.1:{{port}}   (users: {{users}})

Header mode, in bash (paste line by line):
{HEADER_MODE}
Cookie mode in a browser: open http://127.0.0.1:{{port}}/
DPoP in a browser: the same page's DPoP panel (a WebCrypto key the page cannot
  export, a proof signed for every request, tokens bound to the key)

Cookie mode with curl (CSRF double submit on POST):
{COOKIE_MODE}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    default_db = Path(tempfile.gettempdir()) / "flask-jwtx-demo.sqlite3"
    parser.add_argument("--db", default=None, help=f"the SQLite file (default: {default_db})")
    parser.add_argument(
        "--check",
        action="store_true",
        help="walk one login through the app on a free port, print it, exit 0 or 1",
    )
    args = parser.parse_args()
    if args.check:
        from . import check

        if args.db is not None:
            sys.exit(check.main(args.db))
        with tempfile.TemporaryDirectory(prefix="flask-jwtx-demo-check-") as scratch:
            sys.exit(check.main(str(Path(scratch) / "demo.sqlite3")))
    app = create_app(args.db or str(default_db))
    users = ", ".join(f"{name}/{password}" for name, password in DEMO_USERS.items())
    print(WALKTHROUGH.format(port=args.port, users=users), flush=True)
    app.run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
