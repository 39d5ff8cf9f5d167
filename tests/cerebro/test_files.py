"""POST /api/files/upload: content checks, storage, signed links, knowledge-base indexing."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, OperationalError

from cerebro.models import KnowledgeChunk, Upload
from cerebro.services import knowledge
from cerebro.services.knowledge import chunk_text, extract_text
from tests.cerebro.documents import PNG_BYTES, pdf_with_text

pytestmark = pytest.mark.django_db

UPLOAD = "/cerebro/api/files/upload"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks, monkeypatch):
    """Indexing is enqueued on commit; the test's transaction never commits, so run the callbacks
    (the task, in-process) right after each request."""
    global _captured
    _captured = django_capture_on_commit_callbacks


_captured = None


def _upload(client, name: str, data: bytes, content_type: str = "application/octet-stream"):
    with _captured(execute=True):
        return client.post(
            UPLOAD, {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart"
        )


def test_a_pdf_is_stored_answered_in_the_spec_shape_and_indexed(signed_in, user, settings):
    pdf = pdf_with_text("Hooks must be called at the top level of a React component.")

    r = _upload(signed_in, "guide.pdf", pdf, "application/pdf")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["pathname"] == "guide.pdf"
    assert body["contentType"] == "application/pdf"
    assert body["size"] == len(pdf)
    assert body["url"].startswith("http://testserver/cerebro/api/files/download/")
    upload = Upload.objects.get(pk=body["id"])
    assert upload.knowledge_status == "indexed"
    assert "React component" in KnowledgeChunk.objects.get(upload=upload).text


def test_the_signed_url_serves_the_bytes_and_a_forged_one_is_404(signed_in, client, settings):
    body = _upload(signed_in, "pixel.png", PNG_BYTES, "image/png").json()

    fetched = client.get(body["url"].removeprefix("http://testserver"))
    forged = client.get("/cerebro/api/files/download/not-a-token")

    assert fetched.status_code == 200, fetched
    assert b"".join(fetched.streaming_content) == PNG_BYTES
    assert fetched["Content-Type"] == "image/png"
    assert forged.status_code == 404, forged.json()
    assert forged.json()["error"] == "not_found"


def test_an_image_is_not_sent_to_the_knowledge_base(signed_in, settings):

    body = _upload(signed_in, "pixel.png", PNG_BYTES).json()

    assert body["contentType"] == "image/png"
    assert body["knowledgeStatus"] == "none"


def test_the_type_is_judged_by_content_not_by_the_declared_type(signed_in, settings):

    disguised = _upload(signed_in, "photo.png", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00binary", "image/png")
    text = _upload(signed_in, "notes.md", "# Notas\nação e reação".encode(), "application/octet-stream")

    assert disguised.status_code == 400, disguised.json()
    assert disguised.json()["error"] == "validation_error"
    assert text.status_code == 200, text.json()
    assert text.json()["contentType"] == "text/markdown"


def test_a_missing_or_empty_file_is_400(signed_in):
    missing = signed_in.post(UPLOAD, {}, format="multipart")
    empty = _upload(signed_in, "empty.txt", b"")

    assert missing.status_code == 400, missing.json()
    assert empty.status_code == 400, empty.json()


def test_an_oversized_body_is_refused_before_it_is_read(signed_in):
    r = signed_in.post(
        UPLOAD, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(51 * 1024 * 1024)
    )

    assert r.status_code == 413, r.json()
    assert r.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/cerebro/api/files/upload", "/marketplace/v1/storage/upload"])
def test_a_50_mb_file_and_its_multipart_envelope_fit_the_upload_body_limit(path):
    from core.middleware import body_limit_for

    # the specs' largest file, plus boundaries and part headers: the app's own 400 judges the file
    assert body_limit_for(path) >= 50 * 1024 * 1024 + 4096


def test_a_file_over_50_mb_is_400_size_exceeded(signed_in, monkeypatch):
    from cerebro import conf

    monkeypatch.setattr(conf, "MAX_UPLOAD_BYTES", 10)

    r = _upload(signed_in, "big.txt", b"more than ten bytes")

    assert r.status_code == 400, r.json()
    assert r.json()["details"]["file"] == ["size exceeded"]


def test_an_unreadable_pdf_is_marked_failed(signed_in, settings):

    body = _upload(signed_in, "broken.pdf", b"%PDF-1.4\nthis is not really a pdf").json()

    upload = Upload.objects.get(pk=body["id"])
    assert upload.knowledge_status in {"failed", "indexed"}
    assert KnowledgeChunk.objects.filter(upload=upload, text__icontains="react").count() == 0


def test_uploads_need_authentication(client):
    assert (r := client.post(UPLOAD, {})).status_code == 401, r.content


def test_chunks_overlap_and_cover_the_whole_text():
    text = " ".join(f"word{n}" for n in range(1000))

    chunks = chunk_text(text, chunk_tokens=100, overlap_tokens=20)

    assert len(chunks) > 5
    assert chunks[0].split()[0] == "word0" and chunks[-1].split()[-1] == "word999"
    assert chunks[0].split()[-1] in chunks[1].split()


def test_pdf_text_extraction():
    assert "Hello PDF" in extract_text(pdf_with_text("Hello PDF"), "application/pdf")


def test_a_text_file_is_checked_whole_not_only_its_first_64_kib(signed_in):
    text = b"hello world\n" * 6000  # 72 KB: past the sniffed head and the first upload chunk

    binary_after = _upload(signed_in, "notes.txt", text + b"\x00\x01\x02\xff\xfeMZ binary payload")
    nul_after = _upload(signed_in, "notes.txt", text + b"plain but for one \x00")
    cut_short = _upload(signed_in, "notes.txt", text + "ç".encode()[:1])  # ends inside a character

    for r in (binary_after, nul_after, cut_short):
        assert r.status_code == 400, r.json()
        assert r.json()["error"] == "validation_error"
    assert not Upload.objects.exists() and not KnowledgeChunk.objects.exists()


def test_a_character_split_across_upload_chunks_is_still_text(signed_in):
    text = b"a" * (64 * 1024 - 1) + "ção".encode()  # "ç" straddles the 64 KiB chunk boundary

    r = _upload(signed_in, "notes.txt", text)

    assert r.status_code == 200, r.json()
    assert r.json()["contentType"] == "text/plain"


def test_extracted_text_never_holds_nul():
    assert extract_text(b"before\x00after", "text/plain") == "beforeafter"
    assert "\x00" not in extract_text(pdf_with_text("Hello\x00PDF"), "application/pdf")


def test_a_pdf_whose_stream_filter_pypdf_lacks_is_marked_failed_not_pending(signed_in):
    # Given a PDF whose content stream declares a filter no reader knows (pypdf: NotImplementedError)
    pdf = pdf_with_text("Hooks must be called at the top level.", stream_filter="NoSuchDecode")
    # When it is uploaded and indexed
    body = _upload(signed_in, "odd.pdf", pdf, "application/pdf").json()
    # Then the upload ends failed with the reason: left pending, the watchdog would send it for ever
    upload = Upload.objects.get(pk=body["id"])
    assert upload.knowledge_status == "failed"
    assert upload.knowledge_error == "cannot read the PDF: NotImplementedError"
    assert not KnowledgeChunk.objects.filter(upload=upload).exists()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (RuntimeError("a bug"), "indexing failed unexpectedly (RuntimeError)"),
        (SoftTimeLimitExceeded(), "indexing ran past its time limit of 300 seconds"),
    ],
    ids=["a crash", "the time limit"],
)
def test_an_indexing_run_that_crashes_or_runs_out_of_time_marks_the_upload_failed_not_pending(
    signed_in, monkeypatch, error, reason
):
    def crash(text):
        raise error

    monkeypatch.setattr(knowledge, "chunk_text", crash)

    body = _upload(signed_in, "notes.txt", b"some text to index").json()

    upload = Upload.objects.get(pk=body["id"])
    assert (upload.knowledge_status, upload.knowledge_error) == ("failed", reason)
    assert not KnowledgeChunk.objects.exists()


def test_an_indexing_run_that_loses_the_database_is_left_pending_for_a_retry(signed_in, monkeypatch):
    def database_gone(text):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(knowledge, "chunk_text", database_gone)

    body = _upload(signed_in, "notes.txt", b"some text to index").json()

    assert Upload.objects.get(pk=body["id"]).knowledge_status == "pending"


def test_chunks_the_database_refuses_mark_the_upload_failed_not_pending(signed_in, monkeypatch):
    def refuse(*args, **kwargs):
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    monkeypatch.setattr(KnowledgeChunk.objects, "bulk_create", refuse)

    body = _upload(signed_in, "notes.txt", b"some text to index").json()

    upload = Upload.objects.get(pk=body["id"])
    assert upload.knowledge_status == "failed"
    assert upload.knowledge_error
    assert not KnowledgeChunk.objects.exists()
