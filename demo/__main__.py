"""``python -m demo [--port N]``: serve the demo API on 127.0.0.1."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from .app import DEMO_USERS, create_app

WALKTHROUGH = """\
flask-jwtx demo on http://127.0.0.1:{port}   (users: {users})

Header mode:
  curl -s -X POST localhost:{port}/login -H 'Content-Type: application/json' \\
       -d '{{"username": "alice", "password": "wonderland"}}'
  curl -s localhost:{port}/me -H "Authorization: Bearer $ACCESS"
  curl -s -X POST localhost:{port}/password -H "Authorization: Bearer $ACCESS"   # fresh only
  curl -s -X POST localhost:{port}/refresh -H "Authorization: Bearer $REFRESH"  # new pair
  curl -s -X POST localhost:{port}/refresh -H "Authorization: Bearer $REFRESH"  # reuse: 401,
  #   and the new pair is refused too (the demo's JWT_REFRESH_REUSE_GRACE is 0 s)
  curl -s -X POST localhost:{port}/logout -H "Authorization: Bearer $ACCESS"
  curl -s -X POST localhost:{port}/logout/everywhere -H "Authorization: Bearer $ACCESS"

Cookie mode in a browser: open http://127.0.0.1:{port}/
DPoP in a browser: the same page's DPoP panel (a WebCrypto key the page cannot
  export, a proof signed for every request, tokens bound to the key)

Cookie mode with curl (CSRF double submit on POST):
  curl -s -c jar -X POST localhost:{port}/login/cookies -H 'Content-Type: application/json' \\
       -d '{{"username": "alice", "password": "wonderland"}}'
  curl -s -b jar localhost:{port}/me
  curl -s -b jar -X POST localhost:{port}/password \\
       -H "X-CSRF-TOKEN: $(awk '/csrf_access_token/ {{print $7}}' jar)"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    default_db = Path(tempfile.gettempdir()) / "flask-jwtx-demo.sqlite3"
    parser.add_argument("--db", default=str(default_db))
    args = parser.parse_args()
    app = create_app(args.db)
    users = ", ".join(f"{name}/{password}" for name, password in DEMO_USERS.items())
    print(WALKTHROUGH.format(port=args.port, users=users), flush=True)
    app.run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
