"""Instructions per sync chat call, ours against raw ``httpx2``: a count that does not drift.

CPU time on a shared 2-core machine moves ±30% a round, too much to settle a 5% target. This
counts the client's instructions under ``valgrind --tool=callgrind`` instead, for ``N1`` and ``N2``
calls, and divides the difference by ``N2 - N1`` (start-up and imports cancel out). The server
(``benchmarks/server.py``) runs in its own process, outside valgrind.

Run: ``python benchmarks/callgrind_core.py`` (needs ``valgrind``; about two minutes).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
PORT = 8799
N1, N2 = 10, 110

CLIENT = """
import json, sys
which, n = sys.argv[1], int(sys.argv[2])
URL = "http://127.0.0.1:{PORT}/models"
msgs = [{"role": "user", "content": "Say hello."}]
if which == "floor":
    import httpx2
    h = httpx2.Client(headers={"api-key": "k", "Content-Type": "application/json"})
    url = URL + "/chat/completions?api-version=2024-05-01-preview"
    body = json.dumps({"messages": msgs, "model": "gpt-4o-mini"}).encode()
    def call():
        return json.loads(h.post(url, content=body).content)["choices"][0]["message"]["content"]
else:
    from azureinference import Client
    c = Client(URL, "k", model="gpt-4o-mini")
    def call():
        return c.complete(msgs).choices[0].message.content
call()
for _ in range(n):
    call()
""".replace("{PORT}", str(PORT))


def instructions(script: Path, which: str, n: int, out: Path) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         str(script), which, str(n)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if match is None:
        raise RuntimeError(proc.stderr[-2000:])
    return int(match.group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    server = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--port", str(PORT)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "client.py"
            script.write_text(CLIENT)
            per_call = {}
            for which in ("floor", "ours"):
                a = instructions(script, which, N1, Path(tmp) / f"{which}.{N1}")
                b = instructions(script, which, N2, Path(tmp) / f"{which}.{N2}")
                per_call[which] = (b - a) / (N2 - N1)
                print(f"{which:6s} {per_call[which]:12,.0f} instructions per call")
            ratio = per_call["ours"] / per_call["floor"]
            print(f"ours / floor: {ratio:.3f}x (target <= 1.05x)")
            print(json.dumps({"per_call": per_call, "ratio": ratio}))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
