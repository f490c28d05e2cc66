"""Debian's nginx in front of our webhook server, for tests: the `upstream` and `location` blocks of
examples/nginx/complaint-bot.conf, pointed at local instances, in a plain-HTTP server on a free port.

`.ci/run` installs nginx with apt-get when it is missing; without it (or when it cannot start) the tests that
need it are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "nginx" / "complaint-bot.conf"
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def block(text: str, opening: str) -> str:
    """The block of `text` that starts with `opening` (up to its own closing brace, nested ones included)."""
    start = text.index(opening)
    depth, i = 0, text.index("{", start)
    while True:
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1


def render(listen_port: int, instances: list[int], folder: Path) -> str:
    """A whole nginx.conf: the example's upstream (its servers replaced by `instances`) and webhook location."""
    example = EXAMPLE.read_text(encoding="utf-8")
    upstream = block(example, "upstream complaint_bot")
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;\n" for port in instances)
    upstream = re.sub(r"(?m)^\s*server \S+:\d+[^;]*;\n", "", upstream).replace("{\n", "{\n" + servers, 1)
    location = block(example, "location = /telegram/webhook")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the test's private tmp dir
    return f"""{user}daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{upstream}
    server {{
        listen 127.0.0.1:{listen_port};
        location / {{ return 404; }}
        {location}
    }}
}}
"""


@dataclass
class Nginx:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    def access_log(self) -> list[str]:
        path = self.folder / "access.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@contextlib.contextmanager
def running_nginx(folder: Path, instances: list[int]) -> Iterator[Nginx]:
    """nginx proxying to `instances` (local ports), stopped afterwards; skips the test when it cannot start."""
    if not (Path(NGINX).exists() and os.access(NGINX, os.X_OK)) and not shutil.which("nginx"):
        pytest.skip(f"nginx is not installed ({NGINX}; .ci/run installs Debian's package)")
    binary = NGINX if Path(NGINX).exists() else shutil.which("nginx")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = folder / "nginx.conf"
    conf.write_text(render(port, instances, folder), encoding="utf-8")
    proc = subprocess.Popen([binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.skip(f"nginx could not start: {out.strip() or (folder / 'error.log').read_text()[-500:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                pytest.skip("nginx did not listen within 10 s")
            time.sleep(0.02)
        yield Nginx(port, folder)
    finally:
        if proc.poll() is None:
            proc.terminate()  # nginx: fast shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
