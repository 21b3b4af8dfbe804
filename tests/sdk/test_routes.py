"""Every route family through the SDK against a live platform (no encoder): each answer parses into its model."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from tests.fakes.drive_accounts import ServiceAccounts
from tests.fakes.s3 import FakeS3
from tests.fakes.s3 import fake_s3_fixture as fake_s3  # noqa: F401
from tests.harness import Platform
from tests.webhooks.receiver import Receiver
from vidkiln.client import Client

PASSWORD = "correct horse battery"


def _classic(client: Client, clip: Path, source: str) -> None:
    encode = client.encode
    assert encode.health().status == "ok" and encode.get_balance().available > 0
    created = encode.create_job(codec="h264", resolution="720p", fps=30, original_filename="clip.mp4")
    assert created.upload is not None and created.status is None
    assert encode.upload_source(created.upload.url, clip).size == clip.stat().st_size
    assert encode.job_status(created.job_id).ingest == "uploaded"
    assert encode.probe_duration(created.job_id).duration_sec > 0
    assert encode.approve_unified(created.job_id).estimate.total_neu
    held = encode.reserve_tokens(created.job_id, 2)
    assert (held.amount, encode.release_tokens(created.job_id, 1).operation) == (2, "release")
    assert encode.deduct_tokens(created.job_id, 1).balance.available < held.balance.available + 2
    assert encode.confirm_job(created.job_id).status == "queued"
    assert encode.cancel_job(created.job_id).ok
    assert encode.delete_job_files(created.job_id).job_retained

    streamed = encode.create_job({"codec": "h264", "resolution": "480p", "fps": 24})
    assert encode.init_stream(streamed.job_id).ok
    encode.upload_chunk(streamed.job_id, 1, b"scrap")
    assert encode.abort_stream(streamed.job_id).ok
    encode.init_stream(streamed.job_id)
    chunk = encode.upload_chunk(streamed.job_id, 1, clip.read_bytes())
    finished = encode.finalize_stream(streamed.job_id, [{"PartNumber": 1, "ETag": chunk.etag}])
    assert (finished.parts, finished.size) == (1, clip.stat().st_size)
    confirmed = encode.bulk_confirm([streamed.job_id])
    assert confirmed.queued == 1 and confirmed.jobs[0].id == streamed.job_id and confirmed.errors == []

    dry = encode.create_jobs_bulk(
        [{"codec": "h264", "resolution": "720p", "fps": 30, "sourceUrl": source}], {"dryRun": True}
    )
    assert dry.total_jobs == 1 and dry.jobs[0].job_id is None
    missing = str(uuid.uuid4())
    statuses = encode.bulk_status([streamed.job_id, missing])
    assert ([j.id for j in statuses.jobs], statuses.missing) == ([streamed.job_id], [missing])
    on_demand = encode.on_demand_encode(source_url=source, metadata={"k": "v"})
    assert encode.on_demand_cancel(on_demand.job_id).status == "canceled"
    assert encode.get_events(after=0, limit=1000).events


def _account(client: Client, receiver_url: str) -> None:
    encode = client.encode
    hook = encode.create_webhook(receiver_url, ["job.completed"])
    assert encode.update_webhook(hook.id, is_active=False).is_active is False
    assert hook.id in {w.id for w in encode.get_webhooks()}
    delivery = encode.test_webhook(hook.id).delivery
    assert encode.redeliver_webhook(hook.id, delivery.delivery_id or delivery.id).ok
    assert encode.delete_webhook(hook.id) is None
    saved = encode.create_google_drive_credential("robot", ServiceAccounts().create(project_id="acme"))
    assert saved.project_id == "acme" and [c.id for c in encode.get_google_drive_credentials()] == [saved.id]
    assert encode.delete_google_drive_credential(saved.id).ok


def _sessions(base_url: str, email: str) -> None:
    with Client(base_url) as anonymous:
        pair = anonymous.encode.login(email, PASSWORD)
    with Client(base_url, access_token=pair.access_token) as session:
        made = session.encode.create_api_key("ci", scopes=["jobs:read"], expires_in_days=7)
        assert made.key is not None and made.key.startswith("cvr_") and made.expires_at is not None
        assert session.encode.get_api_key(made.id).scopes == ["jobs:read"]
        assert made.id in {k.id for k in session.encode.get_api_keys()}
        assert session.encode.revoke_api_key(made.id) is None
        media = session.media.auth
        assert media.me().email == email and media.status().authenticated
        assert "manage_api_keys" in media.permissions().permissions
        assert media.test_protected().user_id == media.test_verified().user_id == media.verify().user_id
        assert media.health().status == "healthy" and session.media.system.health().status == "ok"
        renewed = session.encode.refresh(pair.refresh_token)
        assert session.encode.logout(renewed.refresh_token).ok


def _media(client: Client, clip: Path, receiver_url: str, tmp: Path) -> None:
    files = client.media.files
    one = files.upload(("notes.txt", b"plain text"), file_type="document", description="d")
    batch = files.batch_upload([clip, ("again.txt", b"plain text")])
    assert batch.total_files == 2 and batch.files[1].deduplicated
    video = batch.files[0]
    assert files.get(video.id).filename == clip.name and files.list(file_type="video").pagination.total_items == 1
    assert files.metadata(video.id).metadata["width"] == 640
    assert files.thumbnail(video.id, "small")[:2] == b"\xff\xd8"
    assert files.stream(video.id, tmp / "streamed.mp4", quality="720p").size == clip.stat().st_size
    link = files.signed_url(one.id, expires_in=60)
    assert httpx.get(link.url).content == b"plain text"  # no credentials needed
    assert files.analytics(one.id).signed_url_count == 1
    assert files.stats().total_files == 3
    assert files.cleanup(file_type="document", dry_run=True).deleted_count == 2  # both text files
    assert files.delete(one.id).deleted

    jobs = client.media.jobs
    page = jobs.list(items_per_page=1)
    assert page.pagination.items_per_page == 1 and page.items
    queued = next(j for j in jobs.list(status="pending").items)
    assert jobs.cancel(queued.id).status == "cancelled" and jobs.delete(queued.id).deleted

    hooks = client.media.webhooks
    made = hooks.create(receiver_url, ["job.completed"])
    assert made.secret and made.id in {w.id for w in hooks.list()}
    assert hooks.delete(made.id) is None


async def test_every_route_family_answers_in_its_model(
    bare: Platform, clips: dict[str, Path], source_server: str, tmp_path: Path
) -> None:
    email = "session@example.com"
    await bare.password_account(email=email, password=PASSWORD)
    receiver = Receiver()
    await receiver.start()
    try:
        with Client(bare.base_url, api_key=bare.admin_key) as client:
            await asyncio.to_thread(_classic, client, clips["silent"], f"{source_server}/media/silent.mp4")
            await asyncio.to_thread(_account, client, receiver.url)
            await asyncio.to_thread(_media, client, clips["silent"], receiver.url, tmp_path)
        await asyncio.to_thread(_sessions, bare.base_url, email)
    finally:
        await receiver.stop()


async def test_folder_ingest_queues_a_job_per_video_of_an_s3_prefix(
    bare: Platform,
    fake_s3: FakeS3,  # noqa: F811
    clips: dict[str, Path],
) -> None:
    keys, bucket = fake_s3.create_user(), fake_s3.create_bucket()
    for name in ("in/a.mp4", "in/b.mov", "in/notes.txt"):
        fake_s3.client().put_object(Bucket=bucket, Key=name, Body=clips["silent"].read_bytes())
    source = {
        "bucket": bucket,
        "prefix": "in/",
        "region": fake_s3.region,
        "endpoint": fake_s3.endpoint,
        "accessKeyId": keys.access_key_id,
        "secretAccessKey": keys.secret_access_key,
    }
    with Client(bare.base_url, api_key=bare.admin_key) as client:
        answer = await asyncio.to_thread(
            client.encode.on_demand_ingest_folder, source_s3=source, external_id_prefix="batch", resolution="480p"
        )
    assert sorted(j.file_name for j in answer.jobs) == ["a.mp4", "b.mov"]
    assert {j.external_id for j in answer.jobs} == {"batch:a.mp4", "batch:b.mov"} and answer.failed == []
