"""The Async Coder API's paths, relative to its base path /coder/.

Resources are viewsets on a router (their paths are the spec's, byte for byte: no trailing slash,
UUID ids); the RPC-shaped endpoints (sign-in, the GitHub webhook, health) are API views.
"""

from django.urls import path

from coder.views.ai_models import AIModelViewSet
from coder.views.api_keys import ApiKeyViewSet
from coder.views.auth import GitHubConnectView, LoginView, LogoutView, RefreshView
from coder.views.health import HealthView
from coder.views.repositories import RepositoryViewSet
from coder.views.tasks import TaskViewSet
from coder.views.users import UserViewSet
from coder.views.webhooks import GitHubWebhookView
from core.routers import ApiRouter

router = ApiRouter()
router.register("api/tasks", TaskViewSet, basename="coder-task")
router.register("api/repositories", RepositoryViewSet, basename="coder-repository")
router.register("api/users/me/api-keys", ApiKeyViewSet, basename="coder-api-key")
router.register("api/users", UserViewSet, basename="coder-user")
router.register("api/ai-models", AIModelViewSet, basename="coder-ai-model")

urlpatterns = [
    path("health", HealthView.as_view(), name="coder-health"),
    path("api/auth/login", LoginView.as_view(), name="coder-auth-login"),
    path("api/auth/refresh", RefreshView.as_view(), name="coder-auth-refresh"),
    path("api/auth/logout", LogoutView.as_view(), name="coder-auth-logout"),
    path("api/auth/github/connect", GitHubConnectView.as_view(), name="coder-auth-github-connect"),
    path("api/webhooks/github", GitHubWebhookView.as_view(), name="coder-webhooks-github"),
    *router.urls,
]
