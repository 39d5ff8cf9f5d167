"""What the minicontratos app keeps beside its chats: GET/PATCH /api/vote, GET/POST/DELETE
/api/document (versioned), GET /api/suggestions. The owner only; errors in the app's shape."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from cerebro.api import ChatSdkApiView
from cerebro.errors import (
    CHAT_NOT_FOUND,
    CHAT_OF_ANOTHER_USER,
    DOCUMENT_NOT_FOUND,
    DOCUMENT_OF_ANOTHER_USER,
    MESSAGE_NOT_IN_CHAT,
)
from cerebro.selectors.chats import chat_votes
from cerebro.selectors.documents import document_suggestions, document_versions
from cerebro.serializers.documents import (
    DocumentDeleteQuery,
    DocumentInput,
    DocumentQuery,
    DocumentVersionOutput,
    SuggestionOutput,
    SuggestionQuery,
    VoteInput,
    VoteOutput,
    VoteQuery,
)
from cerebro.services.documents import document_version_save, document_versions_delete_after
from cerebro.services.votes import vote_cast
from core.openapi import raises
from core.views import validated


class VoteView(ChatSdkApiView):
    error_surface = "vote"

    @extend_schema(
        operation_id="votes_list",
        summary="The user's votes on the messages of their chat",
        parameters=[VoteQuery],
        responses={200: VoteOutput(many=True)},
    )
    @raises(CHAT_OF_ANOTHER_USER, CHAT_NOT_FOUND)
    def get(self, request):
        query = validated(VoteQuery, request.query_params)
        return Response(VoteOutput(chat_votes(user=request.user, chat_id=query["chatId"]), many=True).data)

    @extend_schema(
        operation_id="votes_cast",
        summary="Vote a message of the user's chat up or down (replaces an earlier vote)",
        request=VoteInput,
        responses={200: VoteOutput},
    )
    @raises(CHAT_OF_ANOTHER_USER, CHAT_NOT_FOUND, MESSAGE_NOT_IN_CHAT)
    def patch(self, request):
        body = validated(VoteInput, request.data)
        vote = vote_cast(
            user=request.user, chat_id=body["chatId"], message_id=body["messageId"], upvoted=body["type"] == "up"
        )
        return Response(VoteOutput(vote).data)


class DocumentView(ChatSdkApiView):
    error_surface = "document"

    @extend_schema(
        operation_id="documents_versions",
        summary="Every version of the user's document, oldest first",
        parameters=[DocumentQuery],
        responses={200: DocumentVersionOutput(many=True)},
    )
    @raises(DOCUMENT_OF_ANOTHER_USER, DOCUMENT_NOT_FOUND)
    def get(self, request):
        query = validated(DocumentQuery, request.query_params)
        return Response(
            DocumentVersionOutput(document_versions(user=request.user, document_id=query["id"]), many=True).data
        )

    @extend_schema(
        operation_id="documents_save",
        summary="Save a new version of a document (the first save makes the user its owner)",
        parameters=[DocumentQuery],
        request=DocumentInput,
        responses={200: DocumentVersionOutput(many=True)},
    )
    @raises(DOCUMENT_OF_ANOTHER_USER)
    def post(self, request):
        query = validated(DocumentQuery, request.query_params)
        body = validated(DocumentInput, request.data)
        version = document_version_save(
            user=request.user,
            document_id=query["id"],
            title=body["title"],
            content=body.get("content") or "",
            kind=body["kind"],
        )
        return Response(DocumentVersionOutput([version], many=True).data)

    @extend_schema(
        operation_id="documents_restore",
        summary="Delete the versions saved after `timestamp` (restores the version saved then)",
        parameters=[DocumentDeleteQuery],
        responses={200: DocumentVersionOutput(many=True)},
    )
    @raises(DOCUMENT_OF_ANOTHER_USER, DOCUMENT_NOT_FOUND)
    def delete(self, request):
        query = validated(DocumentDeleteQuery, request.query_params)
        deleted = document_versions_delete_after(user=request.user, document_id=query["id"], moment=query["timestamp"])
        return Response(DocumentVersionOutput(deleted, many=True).data)


class SuggestionsView(ChatSdkApiView):
    error_surface = "suggestions"

    @extend_schema(
        operation_id="suggestions_list",
        summary="The suggestions made on the user's document ([] for an unknown document)",
        parameters=[SuggestionQuery],
        responses={200: SuggestionOutput(many=True)},
    )
    @raises(DOCUMENT_OF_ANOTHER_USER)
    def get(self, request):
        query = validated(SuggestionQuery, request.query_params)
        suggestions = document_suggestions(user=request.user, document_id=query["documentId"])
        return Response(SuggestionOutput(suggestions, many=True).data)
