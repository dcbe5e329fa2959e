#!/usr/bin/env python3
"""A fake Hugging Face Hub on loopback, for othrun's fetch tests (Python 3 standard library only).

It serves what the real Hub serves for hf_hub_download, with the real header names:
  HEAD/GET /[datasets/]ORG/REPO/resolve/REVISION/PATH
    LFS file:   302, Location: /cdn/SHA256, X-Repo-Commit, X-Linked-Etag: "SHA256", X-Linked-Size,
                ETag of the pointer file
    other file: 200, X-Repo-Commit, ETag: "GIT-BLOB-SHA1", Content-Length, the body on GET
    errors:     401 (private, no/wrong token; X-Error-Code: GatedRepo for gated repos),
                404 with X-Error-Code RepoNotFound, RevisionNotFound or EntryNotFound,
                307 to the new name of a renamed repository (a relative Location)
  GET /cdn/SHA256 and GET /files/NAME: the bytes, with Range requests (206).

What it serves is read from a JSON spec file on every request, so a test can move a branch
between requests:
  {"repos": {"model/ORG/REPO": {"refs": {"main": COMMIT}, "private": false, "gated": false,
                                "token": "secret",
                                "commits": {COMMIT: {"PATH": {"file": "/abs/file", "lfs": true}}}}},
   "renamed": {"model/OLD/NAME": "ORG/REPO"},
   "urls": {"/files/NAME": "/abs/file"},
   "behaviour": {KEY: {...}}}   KEY: an LFS sha256, "resolve:PATH" or a /files/ path; for the GET
                                of the bytes unless said otherwise:
     "fail_times": N, "fail_status": 500   the first N requests fail with that status
     "retry_after": S                      ... and say Retry-After: S
     "head_fail_times": N                  the first N HEAD requests on resolve fail with 500
     "cut_after": BYTES, "cut_times": N    the first N bodies end (connection closed) after BYTES
     "chunk": BYTES, "chunk_delay": S      a slow body: BYTES at a time, S seconds apart
     "ignore_range": true                  answer Range requests with the whole file (200)
Every request is appended to the log file as one JSON line: method, path, range, authorization.
"""
import argparse
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}  # (key, what) -> times done


def bump(key, what):
    with LOCK:
        COUNTS[(key, what)] = COUNTS.get((key, what), 0) + 1
        return COUNTS[(key, what)]


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the JSON log says what happened
        pass

    def spec(self):
        with open(self.server.spec_path) as f:
            return json.load(f)

    def record(self):
        entry = {"method": self.command, "path": self.path,
                 "range": self.headers.get("Range", ""),
                 "authorization": self.headers.get("Authorization", "")}
        with LOCK, open(self.server.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    def handle_any(self, head):
        self.record()
        spec = self.spec()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/cdn/"):
            sha = path[5:]
            for repo in spec.get("repos", {}).values():
                for files in repo.get("commits", {}).values():
                    for entry in files.values():
                        data = read(entry["file"])
                        if entry.get("lfs") and hashlib.sha256(data).hexdigest() == sha:
                            return self.send_bytes(data, sha, spec, head)
            return self.reply(404, {}, b"no such CDN object")
        if path in spec.get("urls", {}):
            return self.send_bytes(read(spec["urls"][path]), path, spec, head)
        match = re.match(r"^/(datasets/)?([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$", path)
        if not match:
            return self.reply(404, {}, b"not found")
        return self.resolve(spec, match, head)

    def resolve(self, spec, match, head):
        kind = "dataset" if match.group(1) else "model"
        repo_id = match.group(2) + "/" + match.group(3)
        revision = urllib.parse.unquote(match.group(4))
        file_path = urllib.parse.unquote(match.group(5))
        key = kind + "/" + repo_id
        if key in spec.get("renamed", {}):
            new = spec["renamed"][key]
            prefix = "/datasets/" if kind == "dataset" else "/"
            return self.reply(307, {"Location": prefix + new + "/resolve/" + match.group(4) + "/" +
                                    match.group(5)}, b"")
        repo = spec.get("repos", {}).get(key)
        if repo is None:
            return self.reply(404, {"X-Error-Code": "RepoNotFound"}, b"Repository not found")
        if repo.get("private") or repo.get("gated"):
            if self.headers.get("Authorization", "") != "Bearer " + repo.get("token", ""):
                headers = {"X-Error-Code": "GatedRepo"} if repo.get("gated") else {}
                return self.reply(401, headers, b"Access denied")
        behaviour = spec.get("behaviour", {}).get("resolve:" + file_path, {})
        if head and bump("resolve:" + file_path, "head") <= behaviour.get("head_fail_times", 0):
            return self.reply(500, {}, b"")
        commit = repo.get("refs", {}).get(revision, revision)
        files = repo.get("commits", {}).get(commit)
        if files is None:
            return self.reply(404, {"X-Error-Code": "RevisionNotFound"}, b"Revision not found")
        entry = files.get(file_path)
        if entry is None:
            return self.reply(404, {"X-Error-Code": "EntryNotFound"}, b"Entry not found")
        data = read(entry["file"])
        if entry.get("lfs"):
            sha = hashlib.sha256(data).hexdigest()
            return self.reply(302, {
                # The CDN is "another host" (localhost, not the endpoint's 127.0.0.1), as on
                # the real Hub: the token must not follow the redirect.
                "Location": "http://localhost:%d/cdn/%s?expires=1" % (self.server.server_address[1],
                                                                      sha),
                "X-Repo-Commit": commit,
                "X-Linked-Etag": '"%s"' % sha,
                "X-Linked-Size": str(len(data)),
                "ETag": '"%s"' % git_blob_sha1(b"version https://git-lfs.github.com/spec/v1\n"),
            }, b"")
        extra = {"X-Repo-Commit": commit, "ETag": 'W/"%s"' % git_blob_sha1(data)}
        return self.send_bytes(data, "resolve:" + file_path, spec, head, extra)

    def send_bytes(self, data, key, spec, head, extra=None):
        behaviour = spec.get("behaviour", {}).get(key, {})
        headers = dict(extra or {})
        headers["Accept-Ranges"] = "bytes"
        if head:
            headers["Content-Length"] = str(len(data))
            return self.reply(200, headers, b"", length_given=True)
        if bump(key, "fail") <= behaviour.get("fail_times", 0):
            headers = {"Retry-After": str(behaviour["retry_after"])} if "retry_after" in behaviour else {}
            return self.reply(behaviour.get("fail_status", 500), headers, b"temporarily broken")
        status, start = 200, 0
        asked = re.match(r"^bytes=(\d+)-$", self.headers.get("Range", ""))
        if asked and not behaviour.get("ignore_range"):
            start = int(asked.group(1))
            if start >= len(data):
                return self.reply(416, {"Content-Range": "bytes */%d" % len(data)}, b"")
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = len(body)
        if "cut_after" in behaviour and bump(key, "cut") <= behaviour.get("cut_times", 1):
            cut = min(cut, behaviour["cut_after"])
        chunk = behaviour.get("chunk", 65536)
        delay = behaviour.get("chunk_delay", 0)
        sent = 0
        try:
            while sent < cut:
                piece = body[sent:min(cut, sent + chunk)]
                self.wfile.write(piece)
                self.wfile.flush()
                sent += len(piece)
                if delay and sent < cut:
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if cut < len(body):
            self.close_connection = True  # ends the body short, as a dropped connection does

    def reply(self, status, headers, body, length_given=False):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not length_given:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.spec_path = args.spec
    server.log_path = args.log
    temporary = args.port_file + ".tmp"
    with open(temporary, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(temporary, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
