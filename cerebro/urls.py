"""The minicontratos API's paths, relative to its base path /cerebro/.

Resources are viewsets on a router (the chats' history, uploads, the signed-in account); the
endpoints whose paths are verbs (memory's upsert, promote, delete, search, context, rag, metrics),
the chat stream, the app's document, vote and suggestions routes (their object is named in the
query string), the signed download link and the health check are API views (docs/architecture.md).
The ledger's paths are its own app's (ledger.urls).
"""

from django.urls import include, path

from cerebro.views import chat, documents, files, history, identities, memory
from core.routers import ApiRouter

router = ApiRouter()
router.register("api/history", history.HistoryViewSet, basename="cerebro-history")
router.register("api/files/upload", files.FileUploadViewSet, basename="cerebro-files-upload")
router.register("api/account", identities.AccountViewSet, basename="cerebro-account")

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
    path("api/vote", documents.VoteView.as_view(), name="cerebro-vote"),
    path("api/document", documents.DocumentView.as_view(), name="cerebro-document"),
    path("api/suggestions", documents.SuggestionsView.as_view(), name="cerebro-suggestions"),
    path("api/files/download/<str:token>", files.FileDownloadView.as_view(), name="cerebro-files-download"),
    *router.urls,
    path("api/ledger/", include("ledger.urls")),
]
