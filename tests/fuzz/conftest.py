import pytest


@pytest.fixture(autouse=True)
def _private_media_root(settings, tmp_path):
    """Each fuzz test stores into an empty folder of its own. Its cases are rolled back, but
    files they wrote (blobs, thumbnails, archives kept for a job) are not; in the shared folder
    they reached later tests, and what earlier tests had left changed the answers the fuzzer
    saw (a thumbnail found or not), so the stateful run did not repeat from session to session."""
    settings.MEDIA_ROOT = tmp_path / "media"
