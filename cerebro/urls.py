from django.urls import include, path

from cerebro.views import chat, documents, files, history, identities, memory

urlpatterns: list = [
    path("ping", history.PingView.as_view(), name="cerebro-ping"),
    path("api/memory/context", memory.ContextView.as_view(), name="cerebro-memory-context"),
    path("api/memory/upsert", memory.UpsertView.as_view(), name="cerebro-memory-upsert"),
    path("api/memory/promote", memory.PromoteView.as_view(), name="cerebro-memory-promote"),
    path("api/memory/delete", memory.DeleteView.as_view(), name="cerebro-memory-delete"),
    path("api/memory/search", memory.SearchView.as_view(), name="cerebro-memory-search"),
    path("api/memory/rag", memory.RagView.as_view(), name="cerebro-memory-rag"),
    path("api/memory/metrics", memory.MetricsView.as_view(), name="cerebro-memory-metrics"),
    path("api/chat", chat.chat_view, name="cerebro-chat"),
    path("api/chat/<str:chat_id>/stream", chat.chat_stream_view, name="cerebro-chat-stream"),
    path("api/history", history.HistoryView.as_view(), name="cerebro-history"),
    path("api/vote", documents.VoteView.as_view(), name="cerebro-vote"),
    path("api/document", documents.DocumentView.as_view(), name="cerebro-document"),
    path("api/suggestions", documents.SuggestionsView.as_view(), name="cerebro-suggestions"),
    path("api/account/identities", identities.IdentitiesView.as_view(), name="cerebro-account-identities"),
    path("api/files/upload", files.FileUploadView.as_view(), name="cerebro-files-upload"),
    path("api/files/download/<str:token>", files.FileDownloadView.as_view(), name="cerebro-files-download"),
    path("api/ledger/", include("ledger.urls")),
]
