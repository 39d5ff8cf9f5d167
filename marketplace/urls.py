"""The Synthik API's paths, relative to /marketplace/v1/.

Resources are viewsets on a router (their paths are the spec's, byte for byte: no trailing slash,
UUID ids); the RPC-shaped endpoints (sign-in, the preview, a signed file link, the mailed e-mail
confirmation) are API views.
"""

from django.urls import path

from core.routers import ApiRouter
from marketplace.views import analytics, auth, datasets, files, generation, generation_preview, storage, users, webhooks
from marketplace.views import trained_models as models

router = ApiRouter()
router.register("datasets", datasets.DatasetViewSet, basename="marketplace-dataset")
router.register("models", models.ModelViewSet, basename="marketplace-model")
router.register("generation/jobs", generation.GenerationJobViewSet, basename="marketplace-generation-job")
router.register("generation/templates", generation.TemplateViewSet, basename="marketplace-generation-template")
router.register("users", users.UserViewSet, basename="marketplace-user")
router.register("analytics/datasets", analytics.DatasetAnalyticsViewSet, basename="marketplace-dataset-analytics")
router.register("storage/upload", storage.UploadViewSet, basename="marketplace-storage-upload")
router.register("webhooks", webhooks.WebhookViewSet, basename="marketplace-webhook")

urlpatterns = [
    path("auth/nonce", auth.NonceView.as_view(), name="marketplace-auth-nonce"),
    path("auth/login", auth.LoginView.as_view(), name="marketplace-auth-login"),
    path("auth/refresh", auth.RefreshView.as_view(), name="marketplace-auth-refresh"),
    path("files/<str:token>", files.FileDownloadView.as_view(), name="marketplace-file-download"),
    path(
        "generation/preview", generation_preview.GenerationPreviewView.as_view(), name="marketplace-generation-preview"
    ),
    path(
        "users/profile/email/confirm",
        users.ProfileEmailConfirmView.as_view(),
        name="marketplace-profile-email-confirm",
    ),
    *router.urls,
]
