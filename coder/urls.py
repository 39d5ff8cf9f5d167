"""The Async Coder API's paths, relative to its base path /coder/."""

from django.urls import path

from coder.views.ai_models import AIModelsView
from coder.views.auth import (
    ApiKeysView,
    ApiKeyView,
    GitHubConnectView,
    IdentitiesView,
    LoginView,
    LogoutView,
    RefreshView,
)
from coder.views.health import HealthView
from coder.views.repositories import RepositoriesView, RepositoryBranchesView, RepositorySyncView
from coder.views.tasks import TaskCancelView, TasksView, TaskView
from coder.views.users import CreditTransactionsView, MeView
from coder.views.webhooks import GitHubWebhookView

urlpatterns = [
    path("health", HealthView.as_view(), name="coder-health"),
    path("api/auth/login", LoginView.as_view(), name="coder-auth-login"),
    path("api/auth/refresh", RefreshView.as_view(), name="coder-auth-refresh"),
    path("api/auth/logout", LogoutView.as_view(), name="coder-auth-logout"),
    path("api/auth/github/connect", GitHubConnectView.as_view(), name="coder-auth-github-connect"),
    path("api/users/me", MeView.as_view(), name="coder-users-me"),
    path("api/users/me/credits/transactions", CreditTransactionsView.as_view(), name="coder-credit-transactions"),
    path("api/users/me/api-keys", ApiKeysView.as_view(), name="coder-api-keys"),
    path("api/users/me/identities", IdentitiesView.as_view(), name="coder-identities"),
    path("api/users/me/api-keys/<uuid:api_key_id>", ApiKeyView.as_view(), name="coder-api-key"),
    path("api/repositories", RepositoriesView.as_view(), name="coder-repositories"),
    path("api/repositories/sync", RepositorySyncView.as_view(), name="coder-repositories-sync"),
    path(
        "api/repositories/<uuid:repository_id>/branches",
        RepositoryBranchesView.as_view(),
        name="coder-repository-branches",
    ),
    path("api/tasks", TasksView.as_view(), name="coder-tasks"),
    path("api/tasks/<uuid:task_id>", TaskView.as_view(), name="coder-task"),
    path("api/tasks/<uuid:task_id>/cancel", TaskCancelView.as_view(), name="coder-task-cancel"),
    path("api/ai-models", AIModelsView.as_view(), name="coder-ai-models"),
    path("api/webhooks/github", GitHubWebhookView.as_view(), name="coder-webhooks-github"),
]
