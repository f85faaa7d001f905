"""SSE decoder cost against line length (issue 9, item 11): it must grow linearly.

Feeds one ``data:`` line of 4 to 32 MB in 64 KB chunks (how HTTP bodies arrive) and prints the
time per MB for each size; a linear decoder keeps it flat. The old decoder re-copied the buffered
start of the line on every chunk: 0.1 s for 4 MB, 6.5 s for 32 MB.

    python benchmarks/sse_lines.py
"""

from __future__ import annotations

import time

from azureinference.sse import SSEDecoder

CHUNK = 64 * 1024


def decode_seconds(size: int) -> float:
    body = b"data: " + b"x" * size + b"\n\n"
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    start = time.perf_counter()
    decoder = SSEDecoder()
    events = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    elapsed = time.perf_counter() - start
    assert len(events) == 1
    assert len(events[0].raw) == size
    return elapsed


def main() -> None:
    print("| line | seconds | ms per MB |")
    print("| ---: | ---: | ---: |")
    for mb in (4, 8, 16, 32):
        seconds = min(decode_seconds(mb << 20) for _ in range(3))
        print(f"| {mb} MB | {seconds:.3f} | {seconds * 1000 / mb:.1f} |")


if __name__ == "__main__":
    main()
