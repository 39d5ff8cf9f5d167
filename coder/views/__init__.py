"""The Async Coder API's views, thin: authenticate, validate, call a service or selector, serialize."""
