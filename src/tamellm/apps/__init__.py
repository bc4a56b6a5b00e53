"""Ready applications built on the public API: ``faq`` (a customer-service FAQ assistant), ``monitor``."""
