"""Full-stack serving: gunicorn for REST, uvicorn for WebSockets and SSE, nginx routing by path."""
