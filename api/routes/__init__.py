"""The HTTP API's endpoints, one module per family: answers, articles (and sync, status), health."""
