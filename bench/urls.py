from django.urls import path

from bench import views

urlpatterns = [
    path("users/<str:username>", views.BenchUserView.as_view(), name="bench-user"),
    path("bare/constant-json", views.bare_constant_json, name="bench-bare-constant-json"),
    path("bare/coder-tasks/<str:user_id>", views.bare_coder_tasks, name="bench-bare-coder-tasks"),
    path(
        "bare/marketplace-datasets/<str:user_id>",
        views.bare_marketplace_datasets,
        name="bench-bare-marketplace-datasets",
    ),
    path("bare/cerebro-history/<str:user_id>", views.bare_cerebro_history, name="bench-bare-cerebro-history"),
]
