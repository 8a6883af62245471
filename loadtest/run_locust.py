"""`python loadtest/run_locust.py LOCUST-OPTIONS...`: locust's own command line, made to work with
the urllib3 1.26 that the browser tests' selenium needs (recent locust imports a name that urllib3
only exports at the top of `urllib3.util` from 2.0; the same function lives in `urllib3.util.ssl_`)."""

from gevent import monkey

monkey.patch_all()  # first, as locust itself does, before anything imports ssl or socket

import sys  # noqa: E402

import urllib3.util  # noqa: E402

if not hasattr(urllib3.util, "create_urllib3_context"):
    from urllib3.util.ssl_ import create_urllib3_context

    urllib3.util.create_urllib3_context = create_urllib3_context

from locust.main import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "locust"
    sys.exit(main())
