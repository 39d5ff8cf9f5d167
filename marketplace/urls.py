"""The Synthik API's paths, relative to /marketplace/v1/."""

from django.urls import path

from marketplace import engine_views
from marketplace.views import analytics, auth, datasets, files, generation, storage, trained_models, users, webhooks

urlpatterns = [
    path("auth/nonce", auth.NonceView.as_view(), name="marketplace-auth-nonce"),
    path("auth/login", auth.LoginView.as_view(), name="marketplace-auth-login"),
    path("auth/refresh", auth.RefreshView.as_view(), name="marketplace-auth-refresh"),
    path("datasets", datasets.DatasetListView.as_view(), name="marketplace-datasets"),
    path("datasets/<uuid:dataset_id>", datasets.DatasetDetailView.as_view(), name="marketplace-dataset"),
    path("datasets/<uuid:dataset_id>/star", datasets.DatasetStarView.as_view(), name="marketplace-dataset-star"),
    path(
        "datasets/<uuid:dataset_id>/purchase",
        datasets.DatasetPurchaseView.as_view(),
        name="marketplace-dataset-purchase",
    ),
    path(
        "datasets/<uuid:dataset_id>/download",
        datasets.DatasetDownloadView.as_view(),
        name="marketplace-dataset-download",
    ),
    path("files/<str:token>", files.FileDownloadView.as_view(), name="marketplace-file-download"),
    path("generation/jobs/<uuid:job_id>", generation.GenerationJobView.as_view(), name="marketplace-generation-job"),
    path("generation/templates", generation.TemplateListView.as_view(), name="marketplace-generation-templates"),
    path("generation/preview", engine_views.GenerationPreviewView.as_view(), name="marketplace-generation-preview"),
    path("models", trained_models.ModelListView.as_view(), name="marketplace-models"),
    path("models/<uuid:model_id>", trained_models.ModelDetailView.as_view(), name="marketplace-model"),
    path(
        "models/<uuid:model_id>/download",
        trained_models.ModelDownloadView.as_view(),
        name="marketplace-model-download",
    ),
    path("users/profile", users.ProfileView.as_view(), name="marketplace-profile"),
    path(
        "users/profile/email/confirm",
        users.ProfileEmailConfirmView.as_view(),
        name="marketplace-profile-email-confirm",
    ),
    path("users/identities", users.UserIdentitiesView.as_view(), name="marketplace-user-identities"),
    path("users/datasets", users.UserDatasetsView.as_view(), name="marketplace-user-datasets"),
    path("users/models", users.UserModelsView.as_view(), name="marketplace-user-models"),
    path("users/purchases", users.UserPurchasesView.as_view(), name="marketplace-user-purchases"),
    path(
        "analytics/datasets/<uuid:dataset_id>",
        analytics.DatasetAnalyticsView.as_view(),
        name="marketplace-dataset-analytics",
    ),
    path("storage/upload", storage.UploadView.as_view(), name="marketplace-storage-upload"),
    path("webhooks", webhooks.WebhookListView.as_view(), name="marketplace-webhooks"),
    path("webhooks/<uuid:webhook_id>", webhooks.WebhookDetailView.as_view(), name="marketplace-webhook"),
    path(
        "webhooks/<uuid:webhook_id>/deliveries",
        webhooks.WebhookDeliveriesView.as_view(),
        name="marketplace-webhook-deliveries",
    ),
]
