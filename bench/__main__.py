"""make bench: run every benchmark, each in its own process (each sets Django up its own way)."""

import subprocess
import sys

BENCHMARKS = ["api_latency", "upload", "manifest", "listing", "studio", "annotations", "tasks"]

if __name__ == "__main__":
    failed = [name for name in BENCHMARKS if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode]
    sys.exit(f"failed: {', '.join(failed)}" if failed else 0)
