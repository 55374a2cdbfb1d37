"""A real tus client (tuspy) against the server, driven by tests/api/files.rs.

usage: tus_client.py CUT_ENDPOINT DIRECT_ENDPOINT TOKEN FILE

1. Uploads FILE through CUT_ENDPOINT (a proxy that drops the PATCH connection midway),
   in one PATCH without a per-request checksum, and expects it to fail.
2. Resumes through DIRECT_ENDPOINT: tuspy asks the server for the offset (HEAD) and sends
   the rest (PATCH) with a sha256 Upload-Checksum.

Prints one JSON object per line: {"cut": url}, {"resumed_at": offset}, {"done": url}.
"""

import hashlib
import json
import sys
import time

from tusclient import client
from tusclient.uploader import Uploader


class Sha256Uploader(Uploader):
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def main():
    cut_endpoint, direct_endpoint, token, path = sys.argv[1:5]
    headers = {"Authorization": f"Bearer {token}"}
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    metadata = {"filename": "video.bin", "sha256": digest}

    first = Uploader(path, client=client.TusClient(cut_endpoint, headers=headers), metadata=metadata)
    try:
        first.upload()
    except Exception:  # the proxy cut the connection
        pass
    else:
        raise SystemExit("the upload was not interrupted")
    url = first.url
    print(json.dumps({"cut": url}), flush=True)
    # As a client does after a network error: wait a moment, then ask where to go on.
    time.sleep(1)

    direct_url = url.replace(cut_endpoint.split("/v1/")[0], direct_endpoint.split("/v1/")[0])
    second = Sha256Uploader(
        path,
        url=direct_url,
        client=client.TusClient(direct_endpoint, headers=headers),
        upload_checksum=True,
        chunk_size=1 << 20,
    )
    print(json.dumps({"resumed_at": second.offset}), flush=True)
    second.upload()
    print(json.dumps({"done": direct_url}), flush=True)


if __name__ == "__main__":
    main()
