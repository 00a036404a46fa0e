"""The real OAuth authorization server the tests and the resource-server example run."""
